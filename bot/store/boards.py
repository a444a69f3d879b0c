"""Boards (SPEC §3, §5): one open board per chat and topic, its language and current point, its
live entries as one view, closing, reopening and deleting it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, delete, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.model.board import BoardHead, BoardStatus, BoardView, EntryView
from bot.model.entry_text import Kind
from bot.store.erasure import NOT_BOARD_BOUND, person_eraser
from bot.store.tables import Board, Entry, utcnow

OPEN = BoardStatus.OPEN


def open_board(session: Session, *, chat_id: int, thread_id: int) -> Board | None:
    """The open board of this chat and topic, if any."""
    return session.exec(
        select(Board).where(
            Board.chat_id == chat_id, Board.thread_id == thread_id, Board.status == OPEN
        )
    ).first()


def latest_board(session: Session, *, chat_id: int, thread_id: int) -> Board | None:
    """The open board here, or else the most recently created closed one."""
    board = open_board(session, chat_id=chat_id, thread_id=thread_id)
    if board is not None:
        return board
    return session.exec(
        select(Board)
        .where(Board.chat_id == chat_id, Board.thread_id == thread_id)
        .order_by(col(Board.created_at).desc(), col(Board.id).desc())
    ).first()


def board_by_id(session: Session, board_id: int) -> Board | None:
    return session.get(Board, board_id)


class BoardAlreadyOpen(Exception):
    """Another board is open in this chat and topic."""


def create_board(
    session: Session,
    *,
    chat_id: int,
    thread_id: int,
    title: str,
    language: str,
    created_by: int,
    timezone: str,
    next_reminder_at: datetime | None,
) -> Board:
    """Open a new board; raise BoardAlreadyOpen if one is open here (also under a race)."""
    if open_board(session, chat_id=chat_id, thread_id=thread_id) is not None:
        raise BoardAlreadyOpen
    board = Board(
        chat_id=chat_id,
        thread_id=thread_id,
        title=title,
        language=language,
        created_by=created_by,
        timezone=timezone,
        next_reminder_at=next_reminder_at,
    )
    try:
        with session.begin_nested():  # a lost race undoes only this board, not the unit of work
            session.add(board)
    except IntegrityError as exc:
        raise BoardAlreadyOpen from exc
    return board


def set_current_point(session: Session, *, board: Board, point: int, area: int) -> None:
    """The point (and its area) the group works on now."""
    board.current_point = point
    board.current_area = area
    session.add(board)


def set_language(session: Session, *, board: Board, language: str) -> None:
    board.language = language
    session.add(board)


def close_board(session: Session, *, board: Board) -> None:
    board.status = BoardStatus.CLOSED
    board.closed_at = utcnow()
    session.add(board)


def reopen_board(session: Session, *, board: Board) -> None:
    """Open a closed board again; raise BoardAlreadyOpen if another board is open in its place."""
    other = open_board(session, chat_id=board.chat_id, thread_id=board.thread_id)
    if other is not None and other.id != board.id:
        raise BoardAlreadyOpen
    board.status = BoardStatus.OPEN
    board.closed_at = None
    session.add(board)


_VIEW_COLUMNS = Entry.__table__.c  # type: ignore[attr-defined]
_LIVE_ENTRIES = (
    sa_select(
        _VIEW_COLUMNS.id,
        _VIEW_COLUMNS.point,
        _VIEW_COLUMNS.kind,
        _VIEW_COLUMNS.text,
        _VIEW_COLUMNS.author_id,
        _VIEW_COLUMNS.author_name,
        _VIEW_COLUMNS.created_at,
        _VIEW_COLUMNS.edited_at,
    )
    .where(_VIEW_COLUMNS.board_id == bindparam("view_board"), _VIEW_COLUMNS.removed_at.is_(None))
    .order_by(_VIEW_COLUMNS.created_at, _VIEW_COLUMNS.id)
)


def board_view(session: Session, board: Board) -> BoardView:
    """The board with its live entries, for rules and renderers (read as rows, not as ORM
    objects: a third of the time for a board of 500 entries, read by /board and the Mini App)."""
    assert board.id is not None
    session.flush()  # what the unit of work changed so far is part of the view
    rows = session.connection().execute(_LIVE_ENTRIES, {"view_board": board.id}).all()
    kinds = {kind.value: kind for kind in Kind}
    return BoardView(
        id=board.id,
        title=board.title,
        language=board.language,
        status=BoardStatus(board.status),
        created_at=board.created_at,
        entries=tuple(
            EntryView(
                id=row[0] or 0,
                point=row[1],
                kind=kinds[row[2]],
                text=row[3],
                author_id=row[4],
                author_name=row[5],
                created_at=row[6],
                edited_at=row[7],
            )
            for row in rows
        ),
    )


def board_head(board: Board) -> BoardHead:
    assert board.id is not None
    return BoardHead(
        id=board.id,
        title=board.title,
        language=board.language,
        status=BoardStatus(board.status),
        complete=board.completed_at is not None,
    )


def boards_for_overview(
    session: Session, *, chat_ids: Iterable[int], creator_id: int
) -> list[Board]:
    """The boards of these groups and those the person created, by group and age."""
    return list(
        session.exec(
            select(Board)
            .where(or_(col(Board.chat_id).in_(list(chat_ids)), col(Board.created_by) == creator_id))
            .order_by(col(Board.chat_id), col(Board.created_at), col(Board.id))
        ).all()
    )


def delete_board_row(session: Session, *, board_id: int, closed_at: datetime | None = None) -> bool:
    """Delete the board itself (after its erasers); with `closed_at`, only while it is still
    closed since then (retention: another process, or a /reopen, may have come first)."""
    statement = delete(Board).where(col(Board.id) == board_id)
    if closed_at is not None:
        statement = statement.where(
            col(Board.status) == BoardStatus.CLOSED, col(Board.closed_at) == closed_at
        )
    return int(session.execute(statement).rowcount) == 1  # type: ignore[attr-defined]


@person_eraser("boards")
def disown_boards(session: Session, person_id: int) -> dict[int, int]:
    """Boards the person created keep existing without a creator (0: nobody)."""
    result = session.execute(
        update(Board).where(col(Board.created_by) == person_id).values(created_by=0)
    )
    count = int(result.rowcount)  # type: ignore[attr-defined]
    return {NOT_BOARD_BOUND: count} if count else {}
