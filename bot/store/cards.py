"""Cards (SPEC §4): the posted message of one point; a reply to it becomes an entry of that point."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete
from sqlmodel import Session, col, select

from bot.model.board import BoardHead, BoardStatus
from bot.model.entry_text import Kind
from bot.store.erasure import board_eraser
from bot.store.tables import Board, Card, Entry, ProgressMessage


def add_card(session: Session, *, board_id: int, point: int, chat_id: int, message_id: int) -> Card:
    """Remember a posted card, so replies to it become entries of its point."""
    card = Card(board_id=board_id, point=point, chat_id=chat_id, message_id=message_id)
    session.add(card)
    return card


@dataclass(frozen=True)
class Looked:
    """What a reply's one query found beside its card, so that saving the entry reads nothing
    again: an entry the same message made before (a redelivery), and the board's status message
    times (`progress` None: no row yet)."""

    entry_of_message: int | None
    progress: tuple[datetime | None, datetime | None] | None  # due_at, edited_at


@dataclass(frozen=True)
class CardTarget:
    """What a reply to a card needs: its board, its point, whether that point has an Ist entry
    already (then a new entry cannot complete the board), and what saving it would read."""

    board: BoardHead
    point: int
    point_had_ist: bool
    looked: Looked


# A reply's hot path runs prebuilt Core statements: building an ORM statement, its cache key and
# the objects it loads cost several times the database's own work (benchmarks/burst.py).
_CARD = Card.__table__  # type: ignore[attr-defined]
_BOARD = Board.__table__  # type: ignore[attr-defined]
_ENTRY = Entry.__table__  # type: ignore[attr-defined]
_PROGRESS = ProgressMessage.__table__  # type: ignore[attr-defined]


_CARD_TARGET = (
    select(  # type: ignore[call-overload]
        _CARD.c.point,
        _BOARD.c.id,
        _BOARD.c.title,
        _BOARD.c.language,
        _BOARD.c.status,
        _BOARD.c.completed_at.is_not(None),
        select(_ENTRY.c.id)
        .where(
            _ENTRY.c.board_id == _CARD.c.board_id,
            _ENTRY.c.point == _CARD.c.point,
            _ENTRY.c.kind == Kind.IST.value,
            _ENTRY.c.removed_at.is_(None),
        )
        .exists(),
        select(_ENTRY.c.id)
        .where(_ENTRY.c.chat_id == _CARD.c.chat_id, _ENTRY.c.message_id == bindparam("reply_id"))
        .scalar_subquery(),
        _PROGRESS.c.board_id,
        _PROGRESS.c.due_at,
        _PROGRESS.c.edited_at,
    )
    .join(_BOARD, _BOARD.c.id == _CARD.c.board_id)
    .outerjoin(_PROGRESS, _PROGRESS.c.board_id == _CARD.c.board_id)
    .where(_CARD.c.chat_id == bindparam("chat_id"), _CARD.c.message_id == bindparam("message_id"))
)


def card_target(
    session: Session, *, chat_id: int, message_id: int, reply_id: int
) -> CardTarget | None:
    """The card that is message `message_id`, for the reply `reply_id`: its board, point,
    whether the point has an Ist entry, and what saving the reply would read — in one query."""
    row = (
        session.connection()
        .execute(_CARD_TARGET, {"chat_id": chat_id, "message_id": message_id, "reply_id": reply_id})
        .first()
    )
    if row is None:
        return None
    point, board_id, title, language, status, complete, had_ist, seen, shown, due, edited = row
    board = BoardHead(board_id, title, language, BoardStatus(status), bool(complete))
    looked = Looked(seen, None if shown is None else (due, edited))
    return CardTarget(board, point, bool(had_ist), looked)


def latest_cards(session: Session, board_id: int) -> dict[int, Card]:
    """The newest card of each point of a board."""
    cards = session.exec(
        select(Card).where(Card.board_id == board_id).order_by(col(Card.created_at), col(Card.id))
    ).all()
    return {card.point: card for card in cards}


def newest_card(session: Session, *, board_id: int) -> Card | None:
    """The board's most recently posted card."""
    return session.exec(
        select(Card).where(Card.board_id == board_id).order_by(col(Card.id).desc())
    ).first()


@board_eraser("cards")
def erase_board_cards(session: Session, board_id: int) -> int:
    """The board's cards (after their faces)."""
    result = session.execute(delete(Card).where(col(Card.board_id) == board_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
