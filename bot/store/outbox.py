"""The durable outbox's rows (SPEC §12): sends stored with the effects that decided them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from bot.store.erasure import board_eraser, person_eraser
from bot.store.tables import Board, OutboxSend, utcnow

SENT = "sent"
DROPPED = "dropped"  # too old when it could finally go out
REFUSED = "refused"  # Telegram refused it for good (the chat is gone, a bad request)
SUPERSEDED = "superseded"  # a newer answer to the same read-only command went out instead


def add_sends(
    session: Session, *, sends: Sequence[tuple[int, str, str]], update_id: int | None
) -> list[int]:
    """Store sends (chat id, kind, JSON) in the caller's unit of work; their ids, in order."""
    rows = [
        OutboxSend(chat_id=chat_id, update_id=update_id, kind=kind, payload=payload)
        for chat_id, kind, payload in sends
    ]
    session.add_all(rows)
    session.flush()
    return [int(row.id) for row in rows if row.id is not None]


def settle_send(session: Session, *, send_id: int, outcome: str) -> None:
    """Mark a send done: sent, refused for good or dropped."""
    session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.id) == send_id, col(OutboxSend.sent_at).is_(None))
        .values(sent_at=utcnow(), outcome=outcome, payload="{}")  # the text is not kept
    )


def note_progress(session: Session, *, send_id: int, payload: str) -> None:
    """Store how far a send of several parts got (its arguments with the parts done)."""
    session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.id) == send_id, col(OutboxSend.sent_at).is_(None))
        .values(payload=payload)
    )


def unsent(session: Session, *, limit: int = 1000) -> list[OutboxSend]:
    """Sends not yet made, oldest first."""
    return list(
        session.scalars(
            select(OutboxSend)
            .where(col(OutboxSend.sent_at).is_(None))
            .order_by(col(OutboxSend.id))
            .limit(limit)
        ).all()
    )


def purge_sent(session: Session, *, before: datetime) -> int:
    """Forget sends made (or dropped) before `before`; how many."""
    result = session.execute(
        delete(OutboxSend).where(
            col(OutboxSend.sent_at).is_not(None), col(OutboxSend.sent_at) < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@person_eraser("outbox")
def forget_person(session: Session, person_id: int) -> dict[int, int]:
    """Sends to the person's private chat, and sends that name the person (a mention)."""
    result = session.execute(
        delete(OutboxSend).where(
            or_(
                col(OutboxSend.chat_id) == person_id,
                col(OutboxSend.payload).contains(f"id={person_id}", autoescape=True),
            )
        )
    )
    removed = int(result.rowcount)  # type: ignore[attr-defined]
    return {0: removed} if removed else {}


@board_eraser("outbox")
def erase_board_rows(session: Session, board_id: int) -> int:
    """Sends made in the board's chat (the texts they carried name the board's entries)."""
    board = session.get(Board, board_id)
    if board is None:
        return 0
    result = session.execute(
        delete(OutboxSend).where(
            col(OutboxSend.chat_id) == board.chat_id, col(OutboxSend.sent_at).is_not(None)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
