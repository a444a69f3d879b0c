"""Queries of the boards overview (`/boards`, SPEC §11): which groups to ask Telegram about for a
person, which boards they may then see, and the boards of one group's topic."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.store.tables import Board, GroupMember


def groups_to_ask(session: Session, *, person_id: int) -> list[int]:
    """The groups with a board where the person has been seen or created a board: the only
    ones whose rights are worth a request (the cost grows with the person's groups)."""
    seen = select(GroupMember.chat_id).where(GroupMember.person_id == person_id)
    return list(
        session.exec(
            select(Board.chat_id)
            .where(
                or_(
                    col(Board.chat_id).in_(seen),
                    col(Board.created_by) == person_id,
                )
            )
            .distinct()
            .order_by(col(Board.chat_id))
        ).all()
    )


def boards_for_overview(
    session: Session, *, ruled: Iterable[int], member_of: Iterable[int], creator_id: int
) -> list[Board]:
    """The boards of the groups the person moderates, and those they created in a group they
    still belong to; by group and age."""
    return list(
        session.exec(
            select(Board)
            .where(
                or_(
                    col(Board.chat_id).in_(list(ruled)),
                    (col(Board.created_by) == creator_id) & col(Board.chat_id).in_(list(member_of)),
                )
            )
            .order_by(col(Board.chat_id), col(Board.created_at), col(Board.id))
        ).all()
    )


def boards_of_topic(session: Session, *, chat_id: int, thread_id: int) -> list[Board]:
    """Every board of one group's topic (the open one and the earlier ones), oldest first."""
    return list(
        session.exec(
            select(Board)
            .where(Board.chat_id == chat_id, Board.thread_id == thread_id)
            .order_by(col(Board.created_at), col(Board.id))
        ).all()
    )
