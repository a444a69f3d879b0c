"""Erasure that leaves no copy behind (SPEC §11, issue 25): SQLite's write-ahead log is
checkpointed after every erasure. (What stored updates and plan owners keep of a forgotten
person is erased by bot/store/inbox.py and bot/store/plan.py.)

SQLite itself overwrites freed pages (`PRAGMA secure_delete`, set on every connection in
bot/store/db.py); the checkpoint after the commit moves the erased pages out of the `-wal`
file and truncates it, so the old text is in neither file.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession

from bot.store.db import BUSY_TIMEOUT_MS
from bot.store.erasure import ERASED

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
