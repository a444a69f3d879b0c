"""Per-chat FIFO queues in memory: chats worked on concurrently, each chat strictly in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

from bot.updates.pipeline import Received

log = logging.getLogger(__name__)


class ChatQueues:
    """Hands updates to `work`, one chat at a time in order, many chats at once (bounded).

    A slow chat only ever occupies one of `concurrency` slots, and only while one of its updates
    is in work; its waiting updates take no slot. `waiting` counts queued and running updates,
    so the fetcher can pause when too many are waiting in total.
    """

    def __init__(
        self,
        work: Callable[[Received], Awaitable[None]],
        *,
        concurrency: int = 32,
        capacity: int = 1000,
    ) -> None:
        self._work = work
        self._slots = asyncio.Semaphore(concurrency)
        self.capacity = capacity
        self._queues: dict[Hashable, deque[Received]] = {}
        self._drains: dict[Hashable, asyncio.Task[None]] = {}
        self._waiting = 0
        self._changed = asyncio.Event()
        self._closing = False

    @property
    def waiting(self) -> int:
        return self._waiting

    def put(self, received: Received) -> None:
        """Queue an update behind the earlier ones of its chat."""
        # chatless updates keep no order: each its own queue
        key: Hashable = (
            received.chat_id if received.chat_id is not None else ("update", received.update_id)
        )
        self._queues.setdefault(key, deque()).append(received)
        self._waiting += 1
        if key not in self._drains:
            self._drains[key] = asyncio.create_task(self._drain(key), name=f"chat-queue:{key}")

    async def _drain(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue and not self._closing:
                received = queue[0]
                try:
                    async with self._slots:
                        if self._closing:
                            break
                        await self._work(received)
                except Exception:  # the pipeline settles failures itself; this is a bug
                    log.exception("update %s could not be worked on", received.update_id)
                queue.popleft()
                self._waiting -= 1
                self._changed.set()
        finally:
            self._waiting -= len(queue)
            del self._queues[key]
            del self._drains[key]
            self._changed.set()

    async def wait_for_room(self) -> bool:
        """Return (True) once fewer than `capacity` updates are waiting."""
        while self._waiting >= self.capacity:
            self._changed.clear()
            await self._changed.wait()
        return True

    async def join(self) -> None:
        """Return once every queued update is worked on."""
        while self._drains:
            await asyncio.gather(*self._drains.values(), return_exceptions=True)

    async def close(self, grace: float) -> None:
        """Start nothing new; let updates in work finish for `grace` seconds, then cancel them.

        What was not worked on stays unprocessed in the inbox and is replayed on the next start.
        """
        self._closing = True
        drains = list(self._drains.values())
        if not drains:
            return
        _, late = await asyncio.wait(drains, timeout=grace)
        for task in late:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*late, return_exceptions=True)
