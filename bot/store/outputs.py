"""Heavy outputs (`/board`, `/export` …, SPEC §8): the same answer is not posted twice within a
minute while the board has not changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from bot.store.erasure import NOT_BOARD_BOUND, board_eraser, person_eraser
from bot.store.tables import Board, OutputSent, utcnow

OUTPUT_COOL_DOWN = timedelta(minutes=1)


def claim_heavy_output(
    session: Session, *, chat_id: int, thread_id: int, command: str, fingerprint: str
) -> bool:
    """True if `/board`, `/export` … may post now, remembering it; False when the same command
    was answered here less than a minute ago and the board has not changed since (SPEC §8)."""
    now = utcnow()
    row = session.get(OutputSent, (chat_id, thread_id, command))
    if row is None:
        session.add(
            OutputSent(
                chat_id=chat_id,
                thread_id=thread_id,
                command=command,
                fingerprint=fingerprint,
                sent_at=now,
            )
        )
        return True
    if row.fingerprint == fingerprint and now - row.sent_at < OUTPUT_COOL_DOWN:
        return False
    row.fingerprint = fingerprint
    row.sent_at = now
    return True


@person_eraser("outputs")
def forget_private_outputs(session: Session, person_id: int) -> dict[int, int]:
    """The cool-downs of the person's private chat (its id is the person's id)."""
    result = session.execute(delete(OutputSent).where(col(OutputSent.chat_id) == person_id))
    count = int(result.rowcount)  # type: ignore[attr-defined]
    return {NOT_BOARD_BOUND: count} if count else {}


@board_eraser("outputs")
def erase_board_outputs(session: Session, board_id: int) -> int:
    """The cool-downs of the board's chat and topic."""
    board = session.get(Board, board_id)
    if board is None:
        return 0
    result = session.execute(
        delete(OutputSent).where(
            col(OutputSent.chat_id) == board.chat_id, col(OutputSent.thread_id) == board.thread_id
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
