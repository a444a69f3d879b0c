"""Questions that wait for a confirming tap (`/deleteboard`, `/forgetme`): each remembers what
it asked about and when, so an old tap — after ten minutes, after the board changed, after a
close or reopen, or a second tap — changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col

from bot.store.erasure import board_eraser, person_eraser
from bot.store.tables import Confirmation

CONFIRM_WITHIN = timedelta(minutes=10)
DELETE_BOARD = "deleteboard"
FORGET = "forgetme"


def ask(
    session: Session,
    *,
    kind: str,
    chat_id: int,
    person_id: int,
    board_id: int | None = None,
    fingerprint: str = "",
) -> Confirmation:
    """Remember a question (its id goes into the buttons)."""
    row = Confirmation(
        kind=kind, chat_id=chat_id, board_id=board_id, person_id=person_id, fingerprint=fingerprint
    )
    session.add(row)
    session.flush()
    return row


def take(
    session: Session,
    *,
    confirmation_id: int | None,
    kind: str,
    chat_id: int,
    now: datetime,
    board_id: int | None = None,
    fingerprint: str | None = None,
) -> Confirmation | None:
    """The question a tap answers, settled now; None if it is unknown, answered already,
    older than `CONFIRM_WITHIN`, asked in another chat or about another board, or if what it
    asked about has changed since (`fingerprint`)."""
    row = session.get(Confirmation, confirmation_id) if confirmation_id is not None else None
    if row is None or row.settled or row.kind != kind or row.chat_id != chat_id:
        return None
    if row.board_id != board_id or now - row.asked_at > CONFIRM_WITHIN:
        return None
    if fingerprint is not None and fingerprint != row.fingerprint:
        return None
    row.settled = True
    session.add(row)
    return row


def settle_board(session: Session, *, board_id: int) -> None:
    """The board was closed or reopened: every question about it is out of date."""
    session.execute(
        update(Confirmation)
        .where(col(Confirmation.board_id) == board_id, col(Confirmation.settled).is_(False))
        .values(settled=True)
    )


@board_eraser("confirmations")
def erase_board_confirmations(session: Session, board_id: int) -> int:
    """The board's questions go with it."""
    result = session.execute(delete(Confirmation).where(col(Confirmation.board_id) == board_id))
    return int(getattr(result, "rowcount", 0) or 0)


@person_eraser("confirmations")
def erase_person_confirmations(session: Session, person_id: int) -> dict[int, int]:
    """The questions a person asked (their id is in them)."""
    result = session.execute(delete(Confirmation).where(col(Confirmation.person_id) == person_id))
    count = int(getattr(result, "rowcount", 0) or 0)
    return {0: count} if count else {}
