"""Storage on SQLite and PostgreSQL: 64-bit ids, one entry per message, completion, undo."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from bot.model.entry_text import Kind
from bot.store import boards as board_store
from bot.store import cards as card_store
from bot.store import chats as chat_store
from bot.store import entries as entry_store
from bot.store.db import DatabaseUrlError, normalise_url
from bot.store.tables import Board, GroupMember

BIG_CHAT = -1009876543210123  # beyond 32 bits
BIG_USER = 8_123_456_789


def _board(session: Session, chat_id: int = BIG_CHAT, thread_id: int = 0) -> Board:
    board = board_store.create_board(
        session,
        chat_id=chat_id,
        thread_id=thread_id,
        title="Test",
        language="de",
        created_by=BIG_USER,
        timezone="Europe/Berlin",
        next_reminder_at=None,
    )
    session.commit()
    return board


def _add(
    session: Session,
    board: Board,
    point: int,
    message_id: int,
    kind: Kind = Kind.IST,
    author: int = BIG_USER,
    chat_id: int | None = None,
) -> entry_store.Saved:
    saved = entry_store.add_entry(
        session,
        board=board_store.board_head(board),
        point=point,
        kind=kind,
        text=f"Eintrag {message_id}",
        author_id=author,
        author_name="Anna",
        chat_id=board.chat_id if chat_id is None else chat_id,
        message_id=message_id,
    )
    session.commit()
    return saved


def test_big_telegram_ids_round_trip(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        _add(session, board, 1, 2**40)
        view = board_store.board_view(session, board)
    assert view.entries[0].author_id == BIG_USER
    with Session(engine, expire_on_commit=False) as session:
        stored = board_store.open_board(session, chat_id=BIG_CHAT, thread_id=0)
        assert stored is not None
        assert stored.chat_id == BIG_CHAT


def test_a_member_is_noted_once_with_the_newest_name_and_quiet_kept(engine: Engine) -> None:
    with Session(engine) as session:
        chat_store.note_member(session, chat_id=BIG_CHAT, person_id=BIG_USER, name="Anna")
        session.commit()
        session.execute(text("UPDATE group_member SET quiet = :quiet"), {"quiet": True})
        session.commit()
        chat_store.note_member(session, chat_id=BIG_CHAT, person_id=BIG_USER, name="Anna B.")
        session.commit()
        [(name, quiet, seen)] = session.execute(
            text("SELECT name, quiet, last_seen_at FROM group_member")
        ).all()
        [member] = session.exec(select(GroupMember)).all()
    assert name == "Anna B."
    assert bool(quiet)
    assert seen is not None
    assert member.person_id == BIG_USER
    assert member.last_seen_at.tzinfo is not None  # stored as the column's type stores times


def test_same_message_never_makes_two_entries(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        first = _add(session, board, 1, 55)
        again = _add(session, board, 1, 55)
        assert not first.duplicate
        assert again.duplicate
        assert len(board_store.board_view(session, board).entries) == 1


def test_the_database_refuses_a_second_entry_for_a_message(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    from bot.store.tables import Entry

    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        _add(session, board, 1, 56)
        assert board.id is not None
        session.add(
            Entry(
                board_id=board.id,
                point=2,
                kind="ist",
                text="x",
                author_id=1,
                author_name="A",
                chat_id=BIG_CHAT,
                message_id=56,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_one_open_board_per_topic(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _board(session)
        _board(session, thread_id=7)  # another forum topic may have its own
        with pytest.raises(board_store.BoardAlreadyOpen):
            _board(session)


def test_completion_is_reported_once_and_undo_reopens_it(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        for point in range(1, 20):
            assert not _add(session, board, point, 100 + point).completed_now
        assert not _add(session, board, 20, 200, Kind.SOLL).completed_now
        assert _add(session, board, 20, 201).completed_now
        assert not _add(session, board, 20, 202).completed_now
        removed = entry_store.undo_last(session, board=board, author_id=BIG_USER)
        session.commit()
        assert removed is not None
        assert removed.message_id == 202
        assert board.completed_at is not None  # 201 still fills point 20
        entry_store.undo_last(session, board=board, author_id=BIG_USER)
        entry_store.undo_last(session, board=board, author_id=BIG_USER)
        session.commit()
        assert board.completed_at is None
        assert 20 in board_store.board_view(session, board).empty_points


def test_undo_takes_only_the_authors_latest(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        _add(session, board, 1, 1, author=1)
        _add(session, board, 2, 2, author=2)
        _add(session, board, 3, 3, author=1)
        removed = entry_store.undo_last(session, board=board, author_id=1)
        session.commit()
        assert removed is not None
        assert removed.point == 3
        assert [e.point for e in board_store.board_view(session, board).entries] == [1, 2]
        assert entry_store.undo_last(session, board=board, author_id=3) is None


def test_migration_moves_the_board_and_leaves_messages_in_their_chat(engine: Engine) -> None:
    """Message ids start again at 1 in the new chat: what was written in the old chat keeps
    the old chat's id, so message 10 of either chat is not mistaken for the other."""
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session, chat_id=-4001)
        assert board.id is not None
        card_store.add_card(session, board_id=board.id, point=1, chat_id=-4001, message_id=10)
        _add(session, board, 1, 11)
        chat_store.migrate_chat(session, old_chat_id=-4001, new_chat_id=BIG_CHAT)
        session.commit()
        assert board_store.open_board(session, chat_id=BIG_CHAT, thread_id=0) is not None
        assert board_store.open_board(session, chat_id=-4001, thread_id=0) is None
        assert card_store.card_target(session, chat_id=-4001, message_id=10, reply_id=0) is not None
        assert entry_store.entry_by_message(session, chat_id=-4001, message_id=11) is not None
        assert card_store.card_target(session, chat_id=BIG_CHAT, message_id=10, reply_id=0) is None
        assert entry_store.entry_by_message(session, chat_id=BIG_CHAT, message_id=11) is None
        # the new chat's message 10 and 11 are new messages
        card_store.add_card(session, board_id=board.id, point=2, chat_id=BIG_CHAT, message_id=10)
        _add(session, board, 2, 11, chat_id=BIG_CHAT)
        session.commit()
        assert len(board_store.board_view(session, board).entries) == 2


def test_times_come_back_aware_in_utc(engine: Engine) -> None:
    moment = datetime(2026, 3, 29, 7, 30, tzinfo=UTC)
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        board.next_reminder_at = moment
        session.commit()
    with Session(engine, expire_on_commit=False) as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        assert stored.next_reminder_at == moment
        assert stored.next_reminder_at.tzinfo is not None


def test_ids_are_bigint_columns(engine: Engine) -> None:
    columns = {c["name"]: c for c in inspect(engine).get_columns("entry")}
    for name in ("chat_id", "message_id", "author_id"):
        assert "BIGINT" in str(columns[name]["type"]).upper()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    from bot.store.db import make_engine

    made = make_engine(normalise_url(f"sqlite:///{tmp_path}/wal.sqlite3"))
    with made.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///data/bot.sqlite3", "sqlite+pysqlite"),
        ("postgresql://u:p@db:5432/bot", "postgresql+psycopg"),
        ("postgres://u@db/bot", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@db/bot", "postgresql+psycopg"),
    ],
)
def test_ordinary_urls_get_the_bots_driver(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


@pytest.mark.parametrize(
    "given",
    ["", "nonsense", "mysql://u@h/db", "sqlite://", "sqlite:///:memory:", "postgresql://host"],
)
def test_unusable_urls_are_refused(given: str) -> None:
    with pytest.raises(DatabaseUrlError):
        normalise_url(given)
