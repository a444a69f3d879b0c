"""Entries (SPEC §4, §5): saved once per Telegram message, edited, taken back; the board's
completeness follows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.model.board import BoardHead
from bot.model.catalogue import POINT_COUNT
from bot.model.entry_text import Kind
from bot.store.cards import Looked
from bot.store.erasure import board_eraser, person_eraser
from bot.store.inbox import empty_message_updates
from bot.store.tables import Board, Entry, utcnow


@dataclass(frozen=True)
class Saved:
    """What saving an entry did."""

    entry_id: int
    duplicate: bool
    completed_now: bool


COMPLETION_QUIET = timedelta(days=1)


_ENTRY = Entry.__table__  # type: ignore[attr-defined]


def filled_point_count(session: Session, board_id: int) -> int:
    """How many points have at least one live Ist entry."""
    return session.exec(
        select(func.count(func.distinct(Entry.point))).where(
            Entry.board_id == board_id,
            Entry.kind == Kind.IST.value,
            col(Entry.removed_at).is_(None),
        )
    ).one()


def _update_completion(session: Session, board: Board, point_count: int) -> bool:
    """Keep `completed_at` in step with the entries; True when the completion is to be announced.

    A board that flips complete → incomplete → complete is announced once a day at most.
    """
    assert board.id is not None
    session.flush()
    complete = filled_point_count(session, board.id) >= point_count
    if not complete:
        board.completed_at = None
        return False
    if board.completed_at is not None:
        return False
    now = utcnow()
    board.completed_at = now
    announced = board.completion_announced_at
    if announced is not None and now - announced < COMPLETION_QUIET:
        return False
    board.completion_announced_at = now
    return True


# A message seen before is looked up first (by the unique key's index), so it adds nothing and
# rolls nothing back: the update's claim and the rest of its unit of work stay. (An upsert's
# ON CONFLICT clause has no cache key in SQLAlchemy 2.0: compiled anew for every entry, it cost
# 0.23 ms where the look-up and a plain insert cost 0.06.)
_ENTRY_OF_MESSAGE = select(_ENTRY.c.id).where(
    _ENTRY.c.chat_id == bindparam("of_chat"), _ENTRY.c.message_id == bindparam("of_message")
)
_ADD_ENTRY = _ENTRY.insert()


def add_entry(
    session: Session,
    *,
    board: BoardHead,
    point: int,
    kind: Kind,
    text: str,
    author_id: int,
    author_name: str,
    chat_id: int,
    message_id: int,
    point_count: int = 20,
    point_had_ist: bool = False,
    looked: Looked | None = None,
) -> Saved:
    """Record an entry once per Telegram message; a message seen before is a duplicate.

    `looked`: what the caller's query found already (the message's earlier entry, if any).

    `point_had_ist`: the caller knows the point had a live Ist entry before (then this entry
    cannot complete the board, and completeness need not be counted).

    A message seen before (a redelivery under a new update id, or an edit) is found by its
    look-up — or in `looked` — and adds nothing; the unique (chat, message) key catches only
    another process storing it meanwhile.
    """
    values = {
        "board_id": board.id,
        "point": point,
        "kind": kind.value,
        "text": text,
        "author_id": author_id,
        "author_name": author_name,
        "chat_id": chat_id,
        "message_id": message_id,
        "created_at": utcnow(),
        "edited_at": None,
        "removed_at": None,
    }
    connection = session.connection()
    if looked is not None:
        seen = looked.entry_of_message
    else:
        seen = connection.execute(
            _ENTRY_OF_MESSAGE, {"of_chat": chat_id, "of_message": message_id}
        ).scalar()
    if seen is not None:
        return Saved(int(seen), duplicate=True, completed_now=False)
    try:
        key = connection.execute(_ADD_ENTRY, values).inserted_primary_key
    except IntegrityError:  # another process stored it meanwhile (its chat lock prevents that)
        session.rollback()
        existing = entry_by_message(session, chat_id=chat_id, message_id=message_id)
        assert existing is not None
        assert existing.id is not None
        return Saved(existing.id, duplicate=True, completed_now=False)
    assert key is not None
    entry_id = int(key[0])
    # a Soll entry, one more entry on a complete board or on a filled point cannot change
    # completeness
    completed = False
    if kind is Kind.IST and not board.complete and not point_had_ist:
        row = session.get(Board, board.id)
        assert row is not None
        completed = _update_completion(session, row, point_count)
    return Saved(entry_id, duplicate=False, completed_now=completed)


def entry_by_message(session: Session, *, chat_id: int, message_id: int) -> Entry | None:
    return session.exec(
        select(Entry).where(Entry.chat_id == chat_id, Entry.message_id == message_id)
    ).first()


def edit_entry(
    session: Session,
    *,
    board: Board,
    entry: Entry,
    point: int,
    kind: Kind,
    text: str,
    point_count: int = 20,
) -> bool:
    """Replace an entry's point, text and side; True when the board just became complete."""
    entry.point = point
    entry.kind = kind.value
    entry.text = text
    entry.edited_at = utcnow()
    return _update_completion(session, board, point_count)


@dataclass(frozen=True)
class Undone:
    """What an undone entry said, for the answer; the stored row no longer has it."""

    point: int
    kind: str
    text: str
    message_id: int


def undo_last(
    session: Session, *, board: Board, author_id: int, point_count: int = 20
) -> Undone | None:
    """Remove the author's most recent live entry on this board: its text and author are
    deleted; the row stays, empty, only for what numbering needs (the plan's measure keeps its
    number through it, and an edit or redelivery of the message makes no new entry)."""
    entry = session.exec(
        select(Entry)
        .where(
            Entry.board_id == board.id,
            Entry.author_id == author_id,
            col(Entry.removed_at).is_(None),
        )
        .order_by(col(Entry.created_at).desc(), col(Entry.id).desc())
    ).first()
    if entry is None:
        return None
    undone = Undone(entry.point, entry.kind, entry.text, entry.message_id)
    remove_entry(session, board=board, entry=entry, point_count=point_count)
    return undone


def remove_entry(session: Session, *, board: Board, entry: Entry, point_count: int = 20) -> None:
    """Take one entry back, as `/undo` and the Mini App do: its text and author are deleted; an
    empty row stays only so that the plan's numbers and the message's link hold."""
    entry.removed_at = utcnow()
    entry.text = ""
    entry.author_name = ""
    entry.author_id = 0
    session.add(entry)
    empty_message_updates(session, chat_id=entry.chat_id, message_id=entry.message_id)
    _update_completion(session, board, point_count)


def entry_counts(session: Session, *, board_id: int) -> dict[int, tuple[int, int]]:
    """Live Ist and Soll entries per point of a board: point → (ist, soll)."""
    rows = session.exec(
        select(Entry.point, Entry.kind, func.count())
        .where(Entry.board_id == board_id, col(Entry.removed_at).is_(None))
        .group_by(col(Entry.point), col(Entry.kind))
    ).all()
    counts: dict[int, tuple[int, int]] = {}
    for point, kind, number in rows:
        ist, soll = counts.get(point, (0, 0))
        counts[point] = (number, soll) if kind == Kind.IST.value else (ist, number)
    return counts


def entry_activity(session: Session, *, board_id: int, since: datetime) -> tuple[int, int]:
    """Live entries made after `since` and how many people made them."""
    count, people = session.execute(
        select(func.count(), func.count(func.distinct(Entry.author_id))).where(
            Entry.board_id == board_id,
            col(Entry.created_at) > since,
            col(Entry.removed_at).is_(None),
        )
    ).one()
    return int(count), int(people)


@person_eraser("entries")
def delete_entries_of(session: Session, person_id: int) -> dict[int, int]:
    """Delete every entry the person wrote (live or undone) on every board; how many per board.

    Boards that are no longer complete lose `completed_at` quietly (the next digest says so).
    """
    grouped = (
        select(Entry.board_id, func.count())
        .where(Entry.author_id == person_id)
        .group_by(col(Entry.board_id))
    )
    counts = dict(session.exec(grouped).all())
    session.execute(delete(Entry).where(col(Entry.author_id) == person_id))
    for board_id in counts:
        board = session.get(Board, board_id)
        if board is None or board.completed_at is None:
            continue
        if filled_point_count(session, board_id) < POINT_COUNT:
            board.completed_at = None
    return counts


@board_eraser("entries")
def erase_board_entries(session: Session, board_id: int) -> int:
    """The board's entries (after the measures made from them)."""
    result = session.execute(delete(Entry).where(col(Entry.board_id) == board_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
