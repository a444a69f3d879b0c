"""How the reminder sweep behaves with many boards: only the due ones are read and claimed.

For 1,000 / 10,000 / 50,000 boards with 1 % due, one sweep on SQLite: statements run, board rows
read, time; against a baseline in the same process that reads every open board and filters in
Python (what a sweep without the due-instant index would do).

Run: .venv/bin/python -m benchmarks.sweep
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session, select

from bot.handlers import reminders
from bot.store.db import make_engine, normalise_url, upgrade_schema
from bot.store.tables import Board
from tests.fakes import RecordingBot, insert_boards_one_percent_due, job_context


def _count_rows(engine: Engine) -> tuple[list[int], list[int]]:
    statements: list[int] = []
    board_rows: list[int] = []

    @event.listens_for(engine, "after_cursor_execute")
    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(1)
        if (
            statement.lstrip().upper().startswith("SELECT")
            and "FROM board" in statement
            and "entry" not in statement
        ):
            board_rows.append(max(cursor.rowcount, 0))

    return statements, board_rows


def _baseline_scan(engine: Engine, now: datetime) -> int:
    with Session(engine) as session:
        boards = session.exec(select(Board).where(Board.status == "open")).all()
        return sum(
            1 for b in boards if b.next_reminder_at is not None and b.next_reminder_at <= now
        )


def _indexed_find(engine: Engine, now: datetime, count: int) -> int:
    """The sweep's own query (index on the due instant), asked for every due board at once."""
    from bot.store import schedules as schedule_store

    with Session(engine) as session:
        return len(schedule_store.due_boards(session, now=now, limit=count))


async def _sweep(context: Any, now: datetime) -> int:
    return await reminders.sweep(context, now)


def main() -> None:
    print(
        f"{'boards':>8} {'due':>5} {'find due ms':>11} {'full scan ms':>12} {'ratio':>6}"
        f" {'sweep s':>8} {'sent':>5} {'stmts/due':>9}"
    )
    for count in (1_000, 10_000, 50_000):
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(normalise_url(f"sqlite:///{Path(folder) / 'sweep.sqlite3'}"))
            upgrade_schema(engine)
            now = datetime.now(UTC)
            insert_boards_one_percent_due(engine, count, now)
            start = time.perf_counter()
            due = _baseline_scan(engine, now)
            scan = time.perf_counter() - start
            start = time.perf_counter()
            found = _indexed_find(engine, now, count)
            find = time.perf_counter() - start
            assert found == due
            statements, _ = _count_rows(engine)
            bot = RecordingBot()
            start = time.perf_counter()
            sent = asyncio.run(_sweep(job_context(engine, bot), now))
            sweep = time.perf_counter() - start
            print(
                f"{count:>8} {due:>5} {find * 1000:>11.1f} {scan * 1000:>12.1f} {scan / find:>6.1f}"
                f" {sweep:>8.3f} {sent:>5} {len(statements) / max(sent, 1):>9.1f}"
            )
            engine.dispose()


if __name__ == "__main__":
    main()
