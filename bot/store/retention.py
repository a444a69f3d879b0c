"""Retention (SPEC §11): a closed board's group is told once before the board is deleted, and
the board goes a while after that."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Exists
from sqlmodel import Session, col, select

from bot.model.board import BoardStatus
from bot.store.tables import Board, ReminderSent

RETENTION_NOTICE = "retnotice"  # claim kind: the group was told its closed board will be deleted


def _noticed(before: datetime | None = None) -> Exists:
    """A retention notice for the board's current closing (claimed before `before`)."""
    condition = select(ReminderSent.id).where(
        col(ReminderSent.board_id) == col(Board.id),
        col(ReminderSent.kind) == RETENTION_NOTICE,
        col(ReminderSent.due_at) == col(Board.closed_at),
    )
    if before is not None:
        condition = condition.where(col(ReminderSent.claimed_at) <= before)
    return exists(condition)


def boards_to_warn(session: Session, *, closed_before: datetime, limit: int) -> list[Board]:
    """Closed boards closed before `closed_before` whose group was not yet told of the deletion."""
    return list(
        session.exec(
            select(Board)
            .where(
                Board.status == BoardStatus.CLOSED,
                col(Board.closed_at) <= closed_before,
                ~_noticed(),
            )
            .order_by(col(Board.closed_at))
            .limit(limit)
        ).all()
    )


def claim_retention_notice(session: Session, *, board: Board, now: datetime) -> bool:
    """Claim telling the group (once per closing, across processes): True for the one winner."""
    assert board.id is not None
    assert board.closed_at is not None
    session.add(
        ReminderSent(
            board_id=board.id,
            kind=RETENTION_NOTICE,
            due_at=board.closed_at,
            claimed_at=now,
            outcome="claimed",
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def boards_to_retire(
    session: Session, *, closed_before: datetime, noticed_before: datetime, limit: int
) -> list[Board]:
    """Boards closed before `closed_before` whose group was told before `noticed_before`.

    On PostgreSQL the rows are locked and rows locked by another process are skipped.
    """
    return list(
        session.exec(
            select(Board)
            .where(
                Board.status == BoardStatus.CLOSED,
                col(Board.closed_at) <= closed_before,
                _noticed(noticed_before),
            )
            .order_by(col(Board.closed_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )
