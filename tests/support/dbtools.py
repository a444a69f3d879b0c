"""Looking into (and moving the clock of) the bot's database from end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from bot.store.db import normalise_url


@lru_cache(maxsize=16)
def _engine(database_url: str) -> Engine:
    return create_engine(normalise_url(database_url), poolclass=NullPool)


def rows(database_url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    """Run a query with `?` placeholders on SQLite or PostgreSQL."""
    names = {f"p{i}": value for i, value in enumerate(params)}
    for name in names:
        query = query.replace("?", f":{name}", 1)
    with _engine(database_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(query), names)]


def live_entries(database_url: str) -> list[tuple[object, ...]]:
    """(point, kind, text, chat_id, message_id) of every entry not undone."""
    return rows(
        database_url,
        "select point, kind, text, chat_id, message_id from entry where removed_at is null order by id",
    )


def make_reminder_due(database_url: str, board_id: int, minutes_ago: int = 1) -> None:
    """Controlled time: the board's weekly reminder became due a moment ago."""
    due: Any = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    if database_url.startswith("sqlite"):
        due = due.replace(tzinfo=None)
    with _engine(database_url).begin() as connection:
        connection.execute(
            text(
                "update board set next_reminder_at = :due, "
                "remind_weekday = coalesce(remind_weekday, 0) where id = :board"
            ),
            {"due": due, "board": board_id},
        )
