"""The sweep with the autopilot and the digest: 100,000 boards, 1 % of them due.

Per database (SQLite file, a throw-away PostgreSQL like tests/support/postgres.py starts): boards with a
pace (every second board) and a weekly digest; 0.5 % have their autopilot card due, another
0.5 % their digest. Printed:

- find: the due query of each kind alone (index on `next_pace_at` / `next_reminder_at`);
- sweep: find, claim and post every due one (a recording stand-in for Telegram), and the
  statements per due board (counted with a SQLAlchemy event listener);
- idle: a sweep when nothing is due, on 10,000 and on 100,000 boards: its statements do not
  grow with the boards that are not due;
- the plan of the autopilot's due query (it must use ix_board_next_pace).

Run: .venv/bin/python -m benchmarks.sweep_pace
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, text
from sqlmodel import Session

from bot.handlers import autopilot, reminders
from bot.handlers.core.sweep import Sweeper
from bot.model.pace import EVERY_DAY
from bot.store import schedules as schedule_store
from bot.store.db import make_engine, normalise_url, upgrade_schema
from bot.store.tables import Board
from tests.support.fakes import RecordingBot, job_context
from tests.support.postgres import PostgresServer

BOARDS = 100_000
SMALL = 10_000


def insert_boards(engine: Engine, count: int, now: datetime) -> tuple[int, int]:
    """`count` boards; every 200th has its card due, every 200th (offset 100) its digest."""
    pace_due = digest_due = 0
    rows: list[dict[str, Any]] = []
    for i in range(count):
        card_due = i % 200 == 0
        weekly_due = i % 200 == 100
        pace_due += card_due
        digest_due += weekly_due
        paced = i % 2 == 0
        rows.append(
            {
                "chat_id": -10_000_000 - i,
                "thread_id": 0,
                "title": f"B{i}",
                "language": "de",
                "status": "open",
                "created_by": 1,
                "created_at": now - timedelta(days=30),
                "remind_weekday": 0,
                "remind_time": "09:00",
                "timezone": "Europe/Berlin",
                "next_reminder_at": now - timedelta(minutes=1)
                if weekly_due
                else now + timedelta(days=1 + i % 6),
                "pace_days": EVERY_DAY if paced else None,
                "pace_time": "09:00" if paced else None,
                "next_pace_at": (
                    now - timedelta(minutes=1) if card_due else now + timedelta(hours=20)
                )
                if paced
                else None,
            }
        )
    with Session(engine) as session:
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Board), rows[start : start + 10_000])
        session.commit()
    return pace_due, digest_due


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def run_sweep(sweep: Sweeper, context: Any, now: datetime) -> int:
    return await sweep(context, now)


async def sweep_both(context: Any, now: datetime) -> tuple[int, int]:
    return await reminders.sweep(context, now), await autopilot.sweep(context, now)


def plan_of(engine: Engine, now: datetime) -> str:
    """The database's plan for the very statement `schedule_store.due_paces` sends."""
    sent: list[tuple[str, Any]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    with Session(engine) as session:
        schedule_store.due_paces(session, now=now, limit=50)
        session.rollback()
    event.remove(engine, "before_cursor_execute", seen)
    statement, parameters = next((s, p) for s, p in sent if "next_pace_at <=" in s)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    return " | ".join(str(row[-1]).strip() for row in rows)


def measure(name: str, url: str, count: int, *, full: bool) -> None:
    engine = make_engine(normalise_url(url))
    upgrade_schema(engine)
    now = datetime.now(UTC)
    start = time.perf_counter()
    pace_due, digest_due = insert_boards(engine, count, now)
    filled = time.perf_counter() - start
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE board"))
    context = job_context(engine, RecordingBot())
    if full:
        start = time.perf_counter()
        with Session(engine) as session:
            found_cards = len(schedule_store.due_paces(session, now=now, limit=count))
            found_digests = len(schedule_store.due_boards(session, now=now, limit=count))
            session.commit()
        find = time.perf_counter() - start
        assert (found_cards, found_digests) == (pace_due, digest_due)
        print(
            f"{name:<10} {count:>7} boards  due: {pace_due} cards + {digest_due} digests  "
            f"(filled in {filled:.1f} s)\n"
            f"{'':<10} find due (both queries, no claim): {find * 1000:8.1f} ms"
        )
        for kind, sweep, due in (
            ("digests", reminders.sweep, digest_due),
            ("cards", autopilot.sweep, pace_due),
        ):
            with counted(engine) as statements:
                start = time.perf_counter()
                sent = asyncio.run(run_sweep(sweep, context, now))
                swept = time.perf_counter() - start
            assert sent == due, (kind, sent, due)
            print(
                f"{'':<10} sweep of {kind:<8} (find, claim, post): {swept * 1000:8.1f} ms"
                f" = {swept * 1000 / due:.2f} ms and {len(statements) / due:.1f} statements"
                " per due board"
            )
        print(f"{'':<10} plan of the autopilot's due query: {plan_of(engine, now)}")
    else:
        # the boards due now were claimed already: a sweep that finds nothing
        asyncio.run(sweep_both(context, now))
    later = now + timedelta(minutes=5)
    with counted(engine) as idle:
        start = time.perf_counter()
        assert asyncio.run(sweep_both(context, later)) == (0, 0)
        quiet = time.perf_counter() - start
    print(
        f"{name:<10} {count:>7} boards  idle sweep (nothing due): {len(idle)} statements, "
        f"{quiet * 1000:.1f} ms"
    )
    engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for count, full in ((SMALL, False), (BOARDS, True)):
            measure(
                "SQLite", f"sqlite:///{Path(folder) / f'pace{count}.sqlite3'}", count, full=full
            )
    server = PostgresServer().start()
    try:
        for count, full in ((SMALL, False), (BOARDS, True)):
            url = server.create_database(f"pace_{count}")
            measure("PostgreSQL", url, count, full=full)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
