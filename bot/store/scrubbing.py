"""Erasure that leaves no copy behind (SPEC §11, issue 25): the chat's stored updates emptied
when its board is deleted, plan owners typed as free text matched to a forgotten person's name,
and SQLite's write-ahead log checkpointed after every erasure.

SQLite itself overwrites freed pages (`PRAGMA secure_delete`, set on every connection in
bot/store/db.py); the checkpoint after the commit moves the erased pages out of the `-wal`
file and truncates it, so the old text is in neither file.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, or_, select

from bot.store.db import BUSY_TIMEOUT_MS
from bot.store.erasure import ERASED, board_eraser
from bot.store.tables import Board, InboxUpdate, Measure
from bot.updates.unit import current_update_id

log = logging.getLogger(__name__)


def checkpoint(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file and truncate it to nothing (the
    pages there still hold what was just deleted); nothing to do on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as connection:
            # wait a moment for readers, not the 15 s a writer waits (the next erasure, or
            # SQLite's own checkpoint, takes what is left)
            connection.exec_driver_sql("PRAGMA busy_timeout=2000")
            try:
                busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if busy:  # another connection is reading: the next erasure or SQLite's own checkpoint
            log.info("write-ahead log not truncated after an erasure: a reader was busy")
    except SQLAlchemyError as exc:
        log.warning("write-ahead log not checkpointed after an erasure: %s", exc)


@event.listens_for(OrmSession, "after_commit")
def _checkpoint_after_erasure(session: OrmSession) -> None:
    if not session.info.pop(ERASED, False):
        return
    bind = session.get_bind()
    if isinstance(bind, Engine):
        checkpoint(bind)


@board_eraser("inbox")
def empty_chat_inbox(session: Session, board_id: int) -> int:
    """The chat's stored updates that are finished (and the one being handled) keep only their
    update id: their texts quote the board's entries and title."""
    board = session.get(Board, board_id)
    if board is None:
        return 0
    settled: ColumnElement[bool] = col(InboxUpdate.processed_at).is_not(None)
    current = current_update_id()
    if current is not None:
        settled = or_(settled, col(InboxUpdate.update_id) == current)
    rows = session.exec(
        select(InboxUpdate).where(col(InboxUpdate.chat_id) == board.chat_id, settled)
    ).all()
    emptied = 0
    for row in rows:
        empty = json.dumps({"update_id": row.update_id})
        if row.payload != empty:
            row.payload = empty
            session.add(row)
            emptied += 1
    return emptied


def _folded(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def forget_owner_names(session: Session, *, names: Iterable[str]) -> dict[int, int]:
    """Measures whose owner was typed as free text equal to one of the person's names (first
    name, full name) lose their owner; counts per board."""
    wanted = {_folded(name) for name in names if name and name.strip()}
    if not wanted:
        return {}
    counts: dict[int, int] = {}
    named = session.exec(
        select(Measure).where(col(Measure.owner_name).is_not(None), col(Measure.owner_id).is_(None))
    ).all()
    for measure in named:
        if measure.owner_name is None or _folded(measure.owner_name) not in wanted:
            continue
        measure.owner_name = None
        measure.owner_username = None
        session.add(measure)
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    return counts
