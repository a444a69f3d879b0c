"""The update path's inbox: every update is stored before Telegram is told it arrived; the
unit of work that writes claims it in the same transaction as its effects; the pipeline
finishes it once its answers are sent. Unfinished = `processed_at` is NULL.

A stored update quotes what people wrote: erasing empties the payloads that carry it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, delete, or_, update
from sqlalchemy.dialects import postgresql as _postgresql
from sqlalchemy.dialects import sqlite as _sqlite
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import Session, col, select

from bot.store.erasure import NOT_BOARD_BOUND, board_eraser, person_eraser
from bot.store.tables import Board, InboxUpdate, utcnow

UPDATE_NEW = ""
UPDATE_HANDLED = "handled"  # a handler committed its effects with its claim
UPDATE_DONE = "done"  # finished without a handler's claim (nothing to write)
UPDATE_FAILED = "failed"  # given up after failed attempts


@dataclass
class Handling:
    """The update being handled in this task (the update path sets it, bot/updates/handling.py):
    a unit of work claims it (bot/store/unit.py), and an erasure empties its payload too,
    though it is not finished yet."""

    update_id: int
    resumed: bool = False  # claimed before, by a process that died before finishing it
    claimed: bool = False  # a unit of work claimed it (committed or not)


_HANDLING: ContextVar[Handling | None] = ContextVar("inbox_handling", default=None)


@contextmanager
def handling(update_id: int, *, resumed: bool = False) -> Iterator[Handling]:
    """Make `update_id` the update being handled in this task (and the tasks it starts)."""
    current = Handling(update_id, resumed=resumed)
    token = _HANDLING.set(current)
    try:
        yield current
    finally:
        _HANDLING.reset(token)


def handled_now() -> Handling | None:
    """The update being handled in this task, if any."""
    return _HANDLING.get()


# The hot path's statements on the table itself (SQLAlchemy Core), built once: the ORM's
# bookkeeping and a statement built per call cost more CPU than the database's own work.
_INBOX = InboxUpdate.__table__  # type: ignore[attr-defined]


# one row per parameter set (executemany); RETURNING names the rows that were new, which
# drivers' rowcounts do not say reliably for ON CONFLICT DO NOTHING
_RECEIVE = {
    name: dialect.insert(_INBOX)
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(_INBOX.c.update_id, sort_by_parameter_order=True)
    for name, dialect in (("postgresql", _postgresql), ("sqlite", _sqlite))
}


def receive_updates(
    session: Session, *, updates: Sequence[tuple[int, int | None, str]]
) -> set[int]:
    """Store a batch of updates (id, chat id, JSON) in one statement; the ids that were new."""
    if not updates:
        return set()
    connection = session.connection()
    now = utcnow()
    rows = [
        {
            "update_id": update_id,
            "chat_id": chat_id,
            "payload": payload,
            "received_at": now,
            "processed_at": None,
            "attempts": 0,
            "outcome": UPDATE_NEW,
        }
        for update_id, chat_id, payload in updates
    ]
    return {row[0] for row in connection.execute(_RECEIVE[connection.dialect.name], rows)}


_CLAIM_UPDATE = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id == bindparam("claimed"),
        _INBOX.c.outcome == UPDATE_NEW,
        _INBOX.c.processed_at.is_(None),
    )
    .values(outcome=UPDATE_HANDLED)
)


def claim_update(session: Session, *, update_id: int) -> bool:
    """Claim an update for the handler whose transaction this is; False when it was claimed or
    finished already (by this or another process) — then its effects exist already."""
    result = session.connection().execute(_CLAIM_UPDATE, {"claimed": update_id})
    return bool(result.rowcount == 1)


def finish_update(session: Session, *, update_id: int, outcome: str) -> bool:
    """Mark an update finished; `outcome` unless a handler claimed it ("handled" stays).
    False when it was finished already."""
    return finish_updates(session, update_ids=[update_id], outcome=outcome) == 1


_FINISH = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id.in_(bindparam("finished", expanding=True)),
        _INBOX.c.processed_at.is_(None),
    )
    .values(
        processed_at=bindparam("now"),
        outcome=case(
            (_INBOX.c.outcome == UPDATE_NEW, bindparam("outcome")),
            else_=_INBOX.c.outcome,
        ),
    )
)


def finish_updates(session: Session, *, update_ids: Sequence[int], outcome: str) -> int:
    """Mark several updates finished in one statement (see finish_update); how many were."""
    result = session.connection().execute(
        _FINISH, {"finished": list(update_ids), "now": utcnow(), "outcome": outcome[:16]}
    )
    return int(result.rowcount)


def count_failed_attempt(session: Session, *, update_id: int) -> int:
    """Count one more failed attempt at an update; the number of attempts so far."""
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(attempts=col(InboxUpdate.attempts) + 1)
    )
    attempts = session.exec(
        select(InboxUpdate.attempts).where(InboxUpdate.update_id == update_id)
    ).first()
    return attempts or 0


def inbox_update(session: Session, *, update_id: int) -> InboxUpdate | None:
    return session.get(InboxUpdate, update_id)


def unfinished_updates(
    session: Session, *, chat_id: int | None, up_to: int | None = None, limit: int = 100
) -> list[InboxUpdate]:
    """A chat's unfinished updates (None: those without a chat), oldest first."""
    in_chat = (
        col(InboxUpdate.chat_id).is_(None) if chat_id is None else InboxUpdate.chat_id == chat_id
    )
    statement = select(InboxUpdate).where(in_chat, col(InboxUpdate.processed_at).is_(None))
    if up_to is not None:
        statement = statement.where(InboxUpdate.update_id <= up_to)
    return list(session.exec(statement.order_by(col(InboxUpdate.update_id)).limit(limit)))


def all_unfinished_updates(session: Session, *, limit: int = 1000) -> list[InboxUpdate]:
    """Every unfinished update, oldest first (replayed after a restart)."""
    return list(
        session.exec(
            select(InboxUpdate)
            .where(col(InboxUpdate.processed_at).is_(None))
            .order_by(col(InboxUpdate.update_id))
            .limit(limit)
        )
    )


def purge_processed_updates(session: Session, *, before: datetime) -> int:
    """Forget finished updates received before `before`; how many were removed."""
    result = session.execute(
        delete(InboxUpdate).where(
            col(InboxUpdate.processed_at).is_not(None), col(InboxUpdate.received_at) < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _mentions(value: object, person_id: int) -> bool:
    """Whether a Telegram object names the person (`"id"`/`"user_id"` of a user or private chat)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("id", "user_id") and type(item) is int and item == person_id:
                return True
            if isinstance(item, dict | list) and _mentions(item, person_id):
                return True
        return False
    if isinstance(value, list):
        return any(_mentions(item, person_id) for item in value)
    return False


def empty_message_updates(session: Session, *, chat_id: int, message_id: int) -> int:
    """Empty the stored payloads of the finished updates that carry one message (sent or
    edited), e.g. an entry taken back by `/undo`; how many. The rows keep their update id."""
    candidates = session.exec(
        select(InboxUpdate).where(
            col(InboxUpdate.chat_id) == chat_id,
            col(InboxUpdate.processed_at).is_not(None),
            col(InboxUpdate.payload).contains(str(message_id), autoescape=True),
        )
    ).all()
    emptied = 0
    for row in candidates:
        try:
            raw = json.loads(row.payload)
        except ValueError:
            continue
        messages = [raw.get(key) for key in ("message", "edited_message")]
        if any(isinstance(m, dict) and m.get("message_id") == message_id for m in messages):
            row.payload = json.dumps({"update_id": row.update_id})
            session.add(row)
            emptied += 1
    return emptied


@person_eraser("inbox")
def scrub_inbox(session: Session, person_id: int) -> dict[int, int]:
    """Empty the stored payloads of finished updates that name the person (and of the update
    being handled now); how many. The rows stay, holding only their update id, so a redelivery
    is still recognised and nothing is done twice."""
    settled: ColumnElement[bool] = col(InboxUpdate.processed_at).is_not(None)
    current = _HANDLING.get()
    if current is not None:
        settled = or_(settled, col(InboxUpdate.update_id) == current.update_id)
    candidates = session.exec(
        select(InboxUpdate).where(
            settled,
            or_(
                col(InboxUpdate.payload).contains(str(person_id), autoescape=True),
                col(InboxUpdate.chat_id) == person_id,
            ),
        )
    ).all()
    scrubbed = 0
    for row in candidates:
        try:
            named = _mentions(json.loads(row.payload), person_id)
        except ValueError:
            named = True  # unreadable, and the id is in it: empty it
        if not named and row.chat_id != person_id:
            continue
        row.payload = json.dumps({"update_id": row.update_id})
        if row.chat_id == person_id:
            row.chat_id = None
        scrubbed += 1
    return {NOT_BOARD_BOUND: scrubbed} if scrubbed else {}


@board_eraser("inbox")
def empty_chat_inbox(session: Session, board_id: int) -> int:
    """The chat's stored updates that are finished (and the one being handled) keep only their
    update id: their texts quote the board's entries and title."""
    board = session.get(Board, board_id)
    if board is None:
        return 0
    settled: ColumnElement[bool] = col(InboxUpdate.processed_at).is_not(None)
    current = _HANDLING.get()
    if current is not None:
        settled = or_(settled, col(InboxUpdate.update_id) == current.update_id)
    rows = session.exec(
        select(InboxUpdate).where(col(InboxUpdate.chat_id) == board.chat_id, settled)
    ).all()
    emptied = 0
    for row in rows:
        empty = json.dumps({"update_id": row.update_id})
        if row.payload != empty:
            row.payload = empty
            session.add(row)
            emptied += 1
    return emptied
