"""The weekly reminder: exactly once, catch-up, content, and a sweep that touches only due boards."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from bot.handlers import reminders
from bot.model.board import BoardStatus
from bot.model.entry_text import Kind
from bot.render.reminder import card_link
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import entries as entry_store
from bot.store import schedules as schedule_store
from bot.store.db import make_engine, normalise_url, upgrade_schema
from bot.store.tables import Board, Card, ReminderSent
from tests.fakes import CATALOGUE, RecordingBot, insert_boards_one_percent_due, job_context

CHAT = -1001234500000


def _board(
    session: Session, *, due: datetime | None, chat_id: int = CHAT, thread_id: int = 0
) -> Board:
    board = board_store.create_board(
        session,
        chat_id=chat_id,
        thread_id=thread_id,
        title="Citybike",
        language="de",
        created_by=1,
        timezone="Europe/Berlin",
        next_reminder_at=due,
    )
    session.commit()
    return board


def _fill(session: Session, board: Board, points: range) -> None:
    for point in points:
        entry_store.add_entry(
            session,
            board=board_store.board_head(board),
            point=point,
            kind=Kind.IST,
            text=f"P{point}",
            author_id=1,
            author_name="Anna",
            chat_id=board.chat_id,
            message_id=board.id * 1000 + point,  # type: ignore[operator]
        )
    session.commit()


def _sweep(engine: Engine, bot: RecordingBot) -> int:
    async def run() -> int:
        return await reminders.sweep(job_context(engine, bot), _now())

    return asyncio.run(run())


def _now() -> datetime:
    return datetime.now(UTC)


def test_due_reminder_lists_exactly_the_empty_points(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session, due=_now() - timedelta(minutes=1))
        _fill(session, board, range(1, 18))
        session.add(Card(board_id=board.id, point=18, chat_id=CHAT, message_id=77))  # type: ignore[arg-type]
        session.commit()
    bot = RecordingBot()
    assert _sweep(engine, bot) == 1
    [message] = bot.sent
    body = message["text"]
    assert "3 von 20 Punkten" in body
    assert '<a href="https://t.me/c/1234500000/77">18. Datenaustausch</a>' in body
    assert "19. Individualisierung" in body
    assert "20. Kommunikation zu Partnern" in body
    for point in CATALOGUE["de"].points[:17]:
        assert point.heading not in body
    assert "<b>6. Value Chain</b>" in body
    assert "Kunde" not in body
    with Session(engine) as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        assert stored.next_reminder_at is not None
        assert stored.next_reminder_at > _now()  # moved on to the next Monday 09:00 Berlin
        assert stored.next_reminder_at.weekday() == 0


def test_basic_groups_get_no_links() -> None:
    assert card_link(-4001, 0, 5) is None
    assert card_link(-1001234, 0, 5) == "https://t.me/c/1234/5"
    assert card_link(-1001234, 9, 5) == "https://t.me/c/1234/9/5"


def test_nothing_for_complete_closed_or_inactive_boards(engine: Engine) -> None:
    due = _now() - timedelta(minutes=5)
    with Session(engine, expire_on_commit=False) as session:
        complete = _board(session, due=due, chat_id=-1001)
        _fill(session, complete, range(1, 21))
        closed = _board(session, due=due, chat_id=-1002)
        closed.status = BoardStatus.CLOSED
        _board(session, due=due, chat_id=-1003)
        chat_store.set_chat_active(session, chat_id=-1003, active=False)
        session.commit()
    bot = RecordingBot()
    assert _sweep(engine, bot) == 0
    assert bot.sent == []
    with Session(engine) as session:
        outcomes = {row.outcome for row in session.exec(select(ReminderSent)).all()}
    assert outcomes == {"skipped_complete", "skipped_inactive"}


def test_catch_up_within_twelve_hours_and_skip_beyond(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        recent = _board(session, due=_now() - timedelta(hours=11), chat_id=-2001)
        stale = _board(session, due=_now() - timedelta(hours=13), chat_id=-2002)
    bot = RecordingBot()
    assert _sweep(engine, bot) == 1
    assert [m["chat_id"] for m in bot.sent] == [-2001]
    with Session(engine) as session:
        for board in (recent, stale):
            stored = session.get(Board, board.id)
            assert stored is not None
            assert stored.next_reminder_at is not None
            assert stored.next_reminder_at > _now()
    assert _sweep(engine, bot) == 0  # a restart sweeps again: nothing is sent twice
    assert len(bot.sent) == 1


def test_a_crash_between_claim_and_send_never_duplicates(engine: Engine) -> None:
    due = _now() - timedelta(minutes=2)
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session, due=due)
        assert board.id is not None
        claimed = schedule_store.claim_reminder(
            session,
            board_id=board.id,
            due_at=due,
            next_at=due + timedelta(days=7),
            outcome="sending",
        )
        session.commit()
    assert claimed  # ... and here the process dies before sending
    bot = RecordingBot()
    assert _sweep(engine, bot) == 0
    with Session(engine, expire_on_commit=False) as session:
        # even if the due instant were put back, the recorded claim refuses a second send
        stored = session.get(Board, board.id)
        assert stored is not None
        stored.next_reminder_at = due
        session.commit()
        assert not schedule_store.claim_reminder(
            session,
            board_id=board.id,
            due_at=due,
            next_at=due + timedelta(days=7),
            outcome="sending",
        )
    assert _sweep(engine, bot) == 0
    assert bot.sent == []


def test_a_removed_group_is_marked_inactive_on_403(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _board(session, due=_now() - timedelta(minutes=1), chat_id=-3001)
    bot = RecordingBot(removed={-3001})
    assert _sweep(engine, bot) == 0
    with Session(engine) as session:
        assert not chat_store.chat_is_active(session, -3001)


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_two_processes_on_one_database_send_each_reminder_once(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    raw = (
        f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    url = normalise_url(raw)
    setup = make_engine(url)
    upgrade_schema(setup)
    due = _now() - timedelta(minutes=1)
    with Session(setup, expire_on_commit=False) as session:
        for index in range(60):
            _board(session, due=due, chat_id=-5000 - index)
    bots = [RecordingBot(), RecordingBot()]
    engines = [make_engine(url), make_engine(url)]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        barrier.wait()
        _sweep(engines[index], bots[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    chats = [m["chat_id"] for bot in bots for m in bot.sent]
    assert sorted(chats) == sorted(-5000 - i for i in range(60))


def test_sweep_of_ten_thousand_boards_touches_only_the_due_ones(tmp_path: Path) -> None:
    engine = make_engine(normalise_url(f"sqlite:///{tmp_path / 'many.sqlite3'}"))
    upgrade_schema(engine)
    now = _now()
    insert_boards_one_percent_due(engine, 10_000, now)
    statements: list[str] = []
    parameters_of: dict[str, object] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)
        parameters_of[statement] = parameters

    bot = RecordingBot()
    assert _sweep(engine, bot) == 100
    due_queries = [s for s in statements if "FROM board" in s and "next_reminder_at <=" in s]
    assert due_queries, "the sweep must select due boards by their due instant"
    assert all("LIMIT" in s for s in due_queries)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE BOARD")]
    claims = [s for s in updates if "next_reminder_at" in s]
    assert len(claims) == 100  # one claim per due board, none for the 9,900 others
    assert len(updates) == 200  # and one mark of the digest's coverage per board sent
    with engine.connect() as connection:
        plan = " ".join(
            str(row[-1])
            for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + due_queries[0],
                parameters_of[due_queries[0]],  # type: ignore[arg-type]
            )
        )
    assert "ix_board_next_reminder" in plan
    with Session(engine) as session:
        assert len(session.exec(select(ReminderSent)).all()) == 100
