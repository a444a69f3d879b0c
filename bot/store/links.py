"""The Mini App's board links: one opaque token per board (SPEC §13), and the board's version
the page polls to follow changes made in the chat."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.store.erasure import board_eraser
from bot.store.tables import Board, BoardLink, Entry, Measure, Vote, VoteBallot, VotePoll

TOKEN_BYTES = 18  # 144 random bits, 24 URL-safe characters


def token_for(session: Session, *, board_id: int) -> str:
    """The board's token, made on first use (the caller commits)."""
    link = session.get(BoardLink, board_id)
    if link is None:
        link = BoardLink(board_id=board_id, token=secrets.token_urlsafe(TOKEN_BYTES))
        session.add(link)
        session.flush()
    return link.token


def board_by_token(session: Session, *, token: str) -> Board | None:
    """The board a token names, or None (also for anything that is not a token)."""
    if not 16 <= len(token) <= 64:
        return None
    return session.exec(
        select(Board)
        .join(BoardLink, col(BoardLink.board_id) == col(Board.id))
        .where(BoardLink.token == token)
    ).first()


def board_version(session: Session, *, board: Board) -> str:
    """A short fingerprint that changes whenever the page would show something else: an entry
    added, edited or taken back, a measure changed, a vote started or a pick changed, the board
    closed, reopened or renamed."""
    entries = session.exec(
        select(
            func.count(col(Entry.id)),
            func.max(col(Entry.id)),
            func.max(col(Entry.edited_at)),
            func.max(col(Entry.removed_at)),
        ).where(Entry.board_id == board.id)
    ).one()
    measures = session.exec(
        select(func.count(col(Measure.id)), func.max(col(Measure.updated_at))).where(
            Measure.board_id == board.id
        )
    ).one()
    ballots = session.exec(
        select(func.count(col(VoteBallot.id)), func.max(col(VoteBallot.id)), func.max(col(Vote.id)))
        .select_from(Vote)
        .join(VotePoll, col(VotePoll.vote_id) == col(Vote.id), isouter=True)
        .join(VoteBallot, col(VoteBallot.poll_row_id) == col(VotePoll.id), isouter=True)
        .where(Vote.board_id == board.id)
    ).one()
    parts = (*entries, *measures, *ballots, board.status, board.title, board.language)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@board_eraser("miniapp_links")
def erase_board_link(session: Session, board_id: int) -> int:
    """A deleted board's token goes with it (an old link then finds nothing)."""
    link = session.get(BoardLink, board_id)
    if link is None:
        return 0
    session.delete(link)
    return 1
