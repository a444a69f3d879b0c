"""Looking into (and moving the clock of) the bot's SQLite database from end-to-end tests."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta


def _path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def rows(database_url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(_path(database_url), timeout=30) as connection:
        return list(connection.execute(query, params))


def live_entries(database_url: str) -> list[tuple[object, ...]]:
    """(point, kind, text, chat_id, message_id) of every entry not undone."""
    return rows(
        database_url,
        "select point, kind, text, chat_id, message_id from entry where removed_at is null order by id",
    )


def make_reminder_due(database_url: str, board_id: int, minutes_ago: int = 1) -> None:
    """Controlled time: the board's weekly reminder became due a moment ago."""
    due = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).replace(tzinfo=None)
    with sqlite3.connect(_path(database_url), timeout=30) as connection:
        connection.execute(
            "update board set next_reminder_at = ?, remind_weekday = coalesce(remind_weekday, 0) where id = ?",
            (due.isoformat(sep=" "), board_id),
        )
