"""The bot's application in the test process, fed the emulator's updates one by one.

For tests whose point is a handler: no process start, no polling delay, no waiting. The
application talks HTTP to the emulator exactly as the real process does (same request class,
same rate limiter, same handlers); only the fetching of updates is replaced by `deliver()`,
which hands every update the emulator has queued to `Application.process_update`, in order.
Time is the test's: pass `now` to the sweeps, never sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from telegram import Update

from bot.app import build_application
from bot.context import BotApplication
from bot.model.catalogue import load_catalogue
from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.model import TOKEN
from bot.settings import Settings
from bot.store.db import make_engine, normalise_url, upgrade_schema
from bot.store.tables import Board, Entry
from bot.texts import load_texts
from bot.updates.pipeline import Pipeline

CATALOGUE = load_catalogue()
TEXTS = load_texts()


class InProcessBot:
    """An application built as `python -m bot` builds it, with a hand on the update stream."""

    def __init__(self, emulator: BotApiEmulator, application: BotApplication, engine: Engine):
        self.emulator = emulator
        self.world = emulator.world
        self.application = application
        self.engine = engine
        self.pipeline = Pipeline(application, engine, lanes=application.bot_data.lanes)
        self.delivered: list[dict[str, Any]] = []

    def redeliver(self, raw: dict[str, Any]) -> None:
        """Telegram sends an update again, with the same update id (its confirmation was lost)."""
        with self.world.updates_ready:
            self.world.updates.append(raw)

    def _take(self) -> list[dict[str, Any]]:
        world = self.world
        with world.updates_ready:
            taken, world.updates = list(world.updates), []
            if taken:
                world.fetched_up_to = max(world.fetched_up_to, taken[-1]["update_id"] + 1)
            return taken

    async def deliver(self) -> int:
        """Process every queued update (and those its handling queues), in order; how many."""
        count = 0
        while True:
            batch = await asyncio.to_thread(self._take)
            if not batch:
                return count
            self.delivered.extend(batch)
            updates = [Update.de_json(raw, self.application.bot) for raw in batch]
            # through the inbox, as polling and the webhook do: a redelivery changes nothing
            for received in await self.pipeline.receive(updates):
                await self.pipeline.process(received)
                count += 1

    @property
    def context(self) -> Any:
        """What a JobQueue callback receives (for calling sweeps directly)."""
        from telegram.ext import CallbackContext

        return CallbackContext(self.application)


def settings_for(emulator: BotApiEmulator, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": emulator.base_url,
        "database_url": database_url,
        "telegram_group_messages_per_minute": 6000,
        "telegram_messages_per_second": 1000,
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def inprocess_bot(
    emulator: BotApiEmulator, tmp_path: Path, database_url: str | None = None, **overrides: Any
) -> AsyncIterator[InProcessBot]:
    """A migrated database and an initialised application against the emulator."""
    url = database_url or f"sqlite:///{tmp_path / 'inprocess.sqlite3'}"
    settings = settings_for(emulator, url, **overrides)
    engine = make_engine(normalise_url(url))
    await asyncio.to_thread(upgrade_schema, engine)
    application = build_application(settings, engine, CATALOGUE, TEXTS)
    await application.initialize()
    bot = InProcessBot(emulator, application, engine)
    try:
        yield bot
    finally:
        await application.shutdown()
        await bot.pipeline.close()
        engine.dispose()


def stored_entries(bot: InProcessBot) -> list[tuple[int, str, str, str]]:
    """Live entries: (point, kind, text, author)."""
    with Session(bot.engine) as session:
        rows = session.exec(select(Entry).order_by(Entry.id)).all()  # type: ignore[arg-type]
        return [(e.point, e.kind, e.text, e.author_name) for e in rows if e.removed_at is None]


def board_row(bot: InProcessBot) -> Board:
    with Session(bot.engine) as session:
        board = session.exec(select(Board).order_by(Board.id.desc())).first()  # type: ignore[union-attr]
        assert board is not None
        return board


def board_titled(bot: InProcessBot, title: str) -> Board:
    with Session(bot.engine) as session:
        return session.exec(select(Board).where(Board.title == title)).one()
