"""Updates set aside (SPEC §12): one that cannot be parsed, or whose handling failed three
times, is kept here for a week with its error class and finished in the inbox, so its chat
goes on with the next update and a restart does not try it again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from bot.store.erasure import board_eraser, person_eraser
from bot.store.tables import Board, DeadLetter, InboxUpdate, utcnow

UPDATE_DEAD = "dead"  # the inbox outcome of an update set aside


def set_aside(
    session: Session,
    *,
    update_id: int,
    chat_id: int | None,
    person_id: int | None,
    error: str,
    payload: str,
) -> bool:
    """Keep the update as a dead letter and finish it in the inbox (stored there first if it
    never got in); False if it was set aside before (then nothing changes)."""
    if session.get(DeadLetter, update_id) is not None:
        return False
    session.add(
        DeadLetter(
            update_id=update_id,
            chat_id=chat_id,
            person_id=person_id,
            error=error[:120],
            payload=payload,
        )
    )
    if session.get(InboxUpdate, update_id) is None:
        session.add(InboxUpdate(update_id=update_id, chat_id=chat_id, payload=payload))
        session.flush()
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(processed_at=utcnow(), outcome=UPDATE_DEAD)
    )
    return True


def dead_letters(session: Session, *, chat_id: int | None = None) -> list[DeadLetter]:
    """The updates set aside (of one chat), oldest first."""
    statement = select(DeadLetter).order_by(col(DeadLetter.update_id))
    if chat_id is not None:
        statement = statement.where(col(DeadLetter.chat_id) == chat_id)
    return list(session.scalars(statement).all())


def purge_dead_letters(session: Session, *, before: datetime) -> int:
    """Forget updates set aside before `before`; how many."""
    result = session.execute(delete(DeadLetter).where(col(DeadLetter.set_aside_at) < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


@person_eraser("dead_letters")
def forget_person(session: Session, person_id: int) -> dict[int, int]:
    """Updates set aside that came from the person or from their private chat."""
    result = session.execute(
        delete(DeadLetter).where(
            or_(col(DeadLetter.person_id) == person_id, col(DeadLetter.chat_id) == person_id)
        )
    )
    removed = int(result.rowcount)  # type: ignore[attr-defined]
    return {0: removed} if removed else {}


@board_eraser("dead_letters")
def erase_board_rows(session: Session, board_id: int) -> int:
    """Updates set aside in the board's chat."""
    board = session.get(Board, board_id)
    if board is None:
        return 0
    result = session.execute(delete(DeadLetter).where(col(DeadLetter.chat_id) == board.chat_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
