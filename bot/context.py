"""What every handler can reach: settings, database, catalogue, texts (typed, no casts)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import Engine
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.model.catalogue import Catalogue, ModelText
from bot.request import UpdatesRequest
from bot.settings import Settings
from bot.store.lanes import DatabaseLanes
from bot.store.unit import Stored, UnitOfWork, run_unit
from bot.texts import Messages, Texts

ACTIVE_CHAT_SECONDS = 600.0
SEEN_MEMBER_SECONDS = 3600.0

T = TypeVar("T")


@dataclass
class Recently:
    """Facts this process wrote to the database a short while ago, so the hot path need not
    write them again for every update (which chats are active, who was seen in a group).

    Thread-safe enough for its use: lost or doubled entries only cost one extra write.
    """

    seconds: float
    _until: dict[object, float] = field(default_factory=dict)

    def fresh(self, key: object) -> bool:
        until = self._until.get(key)
        return until is not None and until > time.monotonic()

    def note(self, key: object) -> None:
        if len(self._until) > 100_000:  # bounded: forget everything rather than grow
            self._until.clear()
        self._until[key] = time.monotonic() + self.seconds

    def forget(self, key: object) -> None:
        self._until.pop(key, None)


class BotData:
    """Shared state of one bot process; filled once by `configure` before polling starts."""

    settings: Settings
    engine: Engine
    catalogue: Catalogue
    texts: Texts
    active_chats: Recently
    lanes: DatabaseLanes
    updates_request: UpdatesRequest | None = None  # keeps getUpdates' JSON for the inbox
    # tells the person of an update set aside unparsed (bot/handlers/core/failure.py)
    set_aside_notice: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    # sends the durable outbox's rows left unsent before a stop (bot/handlers/core/outbox.py)
    # (the chats' senders, an event set once the rows from before are queued)
    deliver_unsent: Callable[[Any, Any], Awaitable[None]] | None = None
    # at a stop: this process's claims on unsent rows let go (the next start sends them at once)
    release_unsent: Callable[[], Awaitable[None]] | None = None
    # the Mini App's routes for the bot's HTTP server, when it is on (bot/miniapp/server.py)
    http_routes: Callable[[web.Application], None] | None = None
    seen_members: Recently

    def configure(
        self, *, settings: Settings, engine: Engine, catalogue: Catalogue, texts: Texts
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.catalogue = catalogue
        self.texts = texts
        self.lanes = DatabaseLanes.for_engine(engine)
        self.active_chats = Recently(seconds=ACTIVE_CHAT_SECONDS)
        self.seen_members = Recently(seconds=SEEN_MEMBER_SECONDS)

    async def run_unit(
        self, key: int | None, work: Callable[[UnitOfWork], T], *, stored: Stored | None = None
    ) -> T:
        """Run `work` as one unit of work in the database lane of chat `key` (bot/store/unit.py)."""
        return await run_unit(self.lanes, self.engine, key, work, stored=stored)

    def model(self, language: str) -> ModelText:
        return self.catalogue[language]

    def messages(self, language: str) -> Messages:
        return self.texts[language]

    def messages_for(self, language_code: str | None) -> Messages:
        """The sentences in a person's language (their Telegram app's), else BOT_LANGUAGE."""
        language = (language_code or "")[:2].casefold()
        if language not in self.texts.languages:
            language = self.settings.bot_language
        return self.texts[language]


Context = CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
BotApplication = Application[
    ExtBot[None], Context, dict[object, object], dict[object, object], BotData, JobQueue[Context]
]
