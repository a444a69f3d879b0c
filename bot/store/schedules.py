"""Scheduled posts (SPEC §7, §9): the weekly reminder, the autopilot and the digest; each due
instant is claimed once, with a claim row (`ReminderSent`) per board, kind and instant.

The reminder and the autopilot keep their next due instant on the board (indexed): a sweep
reads only due rows, and claims each due instant once with a conditional update plus a claim row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store.boards import OPEN
from bot.store.erasure import board_eraser
from bot.store.tables import Board, Entry, GroupMember, ReminderSent


def due_boards(session: Session, *, now: datetime, limit: int) -> list[Board]:
    """Open boards whose reminder is due, oldest first; uses the index on `next_reminder_at`.

    On PostgreSQL the rows are locked and rows locked by another process are skipped.
    """
    statement = (
        select(Board)
        .where(
            col(Board.next_reminder_at) <= now,
            Board.status == OPEN,
            col(Board.remind_weekday).is_not(None),
        )
        .order_by(col(Board.next_reminder_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(statement).all())


def claim_reminder(
    session: Session, *, board_id: int, due_at: datetime, next_at: datetime, outcome: str
) -> bool:
    """Move a board's due instant on, only if it is still `due_at`, and record the claim.

    True for the one process that wins; the unique (board, due) row makes a second claim
    impossible even after a crash or restart.
    """
    if not _move_due(session, "next_reminder_at", board_id=board_id, stored=due_at, to=next_at):
        return False
    return claim_due(session, board_id=board_id, kind="reminder", due_at=due_at, outcome=outcome)


def _move_due(
    session: Session, column: str, *, board_id: int, stored: datetime, to: datetime
) -> bool:
    """Move a board's "next due" column on, only if it still holds `stored` (one process wins;
    the loser's transaction is rolled back)."""
    due = getattr(Board, column)
    result = session.execute(
        update(Board).where(col(Board.id) == board_id, col(due) == stored).values({column: to})
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    return True


def claim_due(
    session: Session, *, board_id: int, kind: str, due_at: datetime, outcome: str = "claimed"
) -> bool:
    """Claim the post of `kind` due at `due_at` for a board: True for the one process that wins.

    The unique (board, kind, due) row makes a second claim impossible, even after a crash.
    Schedules that keep their own "next due" column move it on in the same transaction.
    """
    session.add(ReminderSent(board_id=board_id, kind=kind, due_at=due_at, outcome=outcome))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def is_claimed(session: Session, *, board_id: int, kind: str, due_at: datetime) -> bool:
    """Whether the post of `kind` due at `due_at` was claimed already (a cheap look first)."""
    return (
        session.exec(
            select(ReminderSent.id).where(
                ReminderSent.board_id == board_id,
                ReminderSent.kind == kind,
                ReminderSent.due_at == due_at,
            )
        ).first()
        is not None
    )


def record_reminder_outcome(
    session: Session, *, board_id: int, due_at: datetime, outcome: str, kind: str = "reminder"
) -> None:
    """What became of a claimed post (sent, chat_gone, failed …)."""
    row = session.exec(
        select(ReminderSent).where(
            ReminderSent.board_id == board_id,
            ReminderSent.kind == kind,
            ReminderSent.due_at == due_at,
        )
    ).first()
    if row is not None:
        row.outcome = outcome


def set_reminder(
    session: Session,
    *,
    board: Board,
    weekday: int | None,
    at: str,
    timezone: str,
    next_at: datetime | None,
) -> None:
    """Store a board's weekly reminder (weekday None = off) and its next due instant."""
    board.remind_weekday = weekday
    board.remind_time = at
    board.timezone = timezone
    board.next_reminder_at = next_at


def set_pace(
    session: Session, *, board: Board, days: int | None, at: str | None, next_at: datetime | None
) -> None:
    """Store a board's autopilot (days None = off) and its next due instant."""
    board.pace_days = days
    board.pace_time = at
    board.next_pace_at = next_at
    session.add(board)


def due_paces(session: Session, *, now: datetime, limit: int) -> list[tuple[int, int]]:
    """(id, chat id) of boards whose autopilot is due, oldest first, through the index on
    `next_pace_at` (the chat id: the claim runs in the chat's database lane).

    Closed boards are included: their due instant is claimed as skipped and moved on, so a
    board that is not due never costs a sweep anything. Only candidates: the claim locks each
    board (`lock_due_pace`, SKIP LOCKED). Locking here too let concurrent sweeps skip each
    other's short listing locks until none claimed a due board.
    """
    statement = (
        select(Board.id, Board.chat_id)
        .where(col(Board.next_pace_at) <= now, col(Board.pace_days).is_not(None))
        .order_by(col(Board.next_pace_at))
        .limit(limit)
    )
    return [
        (board_id, chat_id)
        for board_id, chat_id in session.exec(statement).all()
        if board_id is not None
    ]


def lock_due_pace(session: Session, *, board_id: int, now: datetime) -> Board | None:
    """The board if its autopilot is still due, locked for this unit of work (PostgreSQL);
    None when another process holds it or has moved it on."""
    return session.exec(
        select(Board)
        .where(
            Board.id == board_id,
            col(Board.next_pace_at) <= now,
            col(Board.pace_days).is_not(None),
        )
        .with_for_update(skip_locked=True)
    ).first()


def claim_pace(
    session: Session,
    *,
    board_id: int,
    stored_due: datetime,
    due_at: datetime,
    next_at: datetime,
    outcome: str,
) -> bool:
    """Move the autopilot's due instant on, only if it is still `stored_due`, and claim
    `due_at` (kind "autopilot"): True for the one process that wins."""
    if not _move_due(session, "next_pace_at", board_id=board_id, stored=stored_due, to=next_at):
        return False
    return claim_due(session, board_id=board_id, kind="autopilot", due_at=due_at, outcome=outcome)


def mark_digest(session: Session, *, board_id: int, at: datetime) -> None:
    """The weekly digest covering everything up to `at` went out."""
    session.execute(update(Board).where(col(Board.id) == board_id).values(last_digest_at=at))


def silent_members(session: Session, *, board_id: int, chat_id: int) -> list[str]:
    """Names of people seen in the chat who have no live entry on the board, except those who
    asked `/quiet`; alphabetical."""
    authors = select(Entry.author_id).where(
        Entry.board_id == board_id, col(Entry.removed_at).is_(None)
    )
    rows = session.exec(
        select(GroupMember.name)
        .where(
            GroupMember.chat_id == chat_id,
            col(GroupMember.quiet).is_(False),
            col(GroupMember.person_id).not_in(authors),
        )
        .order_by(func.lower(GroupMember.name), col(GroupMember.person_id))
    ).all()
    return list(rows)


@board_eraser("schedules")
def erase_board_claims(session: Session, board_id: int) -> int:
    """The claims of the board's scheduled posts (and of its retention notice)."""
    result = session.execute(delete(ReminderSent).where(col(ReminderSent.board_id) == board_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
