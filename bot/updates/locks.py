"""One chat's updates processed by one worker at a time: in this process, and across processes.

In one process an asyncio lock per chat is enough (SQLite runs one bot process). On PostgreSQL
several processes may serve one webhook URL; there a session-level advisory lock keyed by the
chat id is held, on a dedicated connection of a small pool of its own, while that chat's updates
are drained. The lock never lives in a handler's ORM session, and it is taken with
`pg_try_advisory_lock` in a short polling loop, so waiting for it occupies no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection

TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
UNLOCK = text("SELECT pg_advisory_unlock(:key)")
POLL_FIRST_SECONDS = 0.005
POLL_MOST_SECONDS = 0.1


class ChatLocks:
    """`async with locks.hold(chat_id):` — that chat is ours until the block ends."""

    def __init__(self, engine: Engine, *, slots: int = 16) -> None:
        self._local: dict[int | None, asyncio.Lock] = {}
        self._users: dict[int | None, int] = {}
        self._shared: Engine | None = None
        self._slots = asyncio.Semaphore(slots)
        if engine.dialect.name == "postgresql":
            # its own pool: a held lock must never wait for a connection a handler needs
            self._shared = create_engine(
                engine.url,
                isolation_level="AUTOCOMMIT",
                pool_size=slots,
                max_overflow=0,
                pool_pre_ping=True,
            )

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int | None) -> AsyncIterator[None]:
        lock = self._local.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                if self._shared is None or chat_id is None:
                    yield
                else:
                    async with self._slots, self._advisory(self._shared, chat_id):
                        yield
        finally:
            self._users[chat_id] -= 1
            if self._users[chat_id] == 0:
                del self._users[chat_id]
                self._local.pop(chat_id, None)

    @staticmethod
    @contextlib.asynccontextmanager
    async def _advisory(engine: Engine, key: int) -> AsyncIterator[None]:
        connection: Connection = await asyncio.to_thread(engine.connect)
        locked: bool | None = False  # None: asked, answer unknown (cancelled while asking)
        try:
            pause = POLL_FIRST_SECONDS
            while True:
                locked = None
                locked = await asyncio.to_thread(_scalar, connection, TRY_LOCK, key)
                if locked:
                    break
                await asyncio.sleep(pause)
                pause = min(pause * 2, POLL_MOST_SECONDS)
            yield
        finally:
            await asyncio.shield(asyncio.to_thread(_release, connection, key, locked))

    async def close(self) -> None:
        if self._shared is not None:
            await asyncio.to_thread(self._shared.dispose)


def _scalar(connection: Connection, statement: Any, key: int) -> bool:
    return bool(connection.execute(statement, {"key": key}).scalar())


def _release(connection: Connection, key: int, locked: bool | None) -> None:
    """Unlock and give the connection back; when in doubt, close it (that unlocks too)."""
    try:
        if locked is None or (locked and not _scalar(connection, UNLOCK, key)):
            connection.invalidate()
    except Exception:
        connection.invalidate()
    finally:
        connection.close()
