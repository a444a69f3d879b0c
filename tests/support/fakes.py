"""A stand-in for the bot's Telegram side in unit tests of jobs: records what would be sent."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import Session
from telegram.error import Forbidden

from bot.context import BotData
from bot.model.catalogue import load_catalogue
from bot.settings import Settings
from bot.store.tables import Board
from bot.texts import load_texts

_message_ids = itertools.count(1000)
_lock = threading.Lock()
CATALOGUE = load_catalogue()
TEXTS = load_texts()


@dataclass
class RecordingBot:
    """Collects send_message calls; chats in `removed` answer 403."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)

    async def send_message(self, **kwargs: Any) -> Any:
        if kwargs["chat_id"] in self.removed:
            raise Forbidden("Forbidden: bot was kicked from the group chat")
        with _lock:
            self.sent.append(kwargs)
            message_id = next(_message_ids)
        return SimpleNamespace(chat=SimpleNamespace(id=kwargs["chat_id"]), message_id=message_id)


def job_context(engine: Engine, bot: RecordingBot) -> Any:
    """What a JobQueue callback receives, with a real database and a recording bot."""
    data = BotData()
    settings = Settings(telegram_bot_token="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0")
    data.configure(settings=settings, engine=engine, catalogue=CATALOGUE, texts=TEXTS)
    return SimpleNamespace(bot_data=data, bot=bot)


def insert_boards_one_percent_due(engine: Engine, count: int, now: datetime) -> None:
    """`count` open boards with weekly reminders; every hundredth one is due a minute ago."""
    rows = [
        {
            "chat_id": -10_000_000 - i,
            "thread_id": 0,
            "title": f"B{i}",
            "language": "de",
            "status": "open",
            "created_by": 1,
            "created_at": now,
            "remind_weekday": 0,
            "remind_time": "09:00",
            "timezone": "Europe/Berlin",
            "next_reminder_at": now - timedelta(minutes=1)
            if i % 100 == 0
            else now + timedelta(days=1 + i % 6),
        }
        for i in range(count)
    ]
    with Session(engine) as session:
        session.execute(insert(Board), rows)
        session.commit()
