"""Posts that need not hold up their chat's next update: sent in the background, in order per
chat (SPEC §12, issue 25 "one member stalls the group").

A post held back by Telegram's limit of 20 a minute per group used to keep its chat's next
update waiting behind it, so in a busy minute another member's entry was acknowledged only
after everyone's answers had gone out. Posts stored in the durable outbox may instead be handed
to the chat's sender: the update is finished at once (its posts are in the outbox; a stop
before they go out sends them on the next start) and the chat goes on, while the sender sends
them in order. A person who repeats a read-only command while the answer to the last one still
waits gets only the newest answer (`key`): the waiting one is dropped. With `ready` (the pacing
layer's `room_to_post`), a chat's next send stays in its queue until the chat may post: a
send waits where a newer one can still replace it, not inside the pacing layer.

An update never sends in line behind its chat's posts: a chat keeps at most KEPT_PER_CHAT
sends in memory as they were decided; past that a send is queued only by its stored rows' ids
(`stored`: it reads them back from the outbox when its turn comes), so memory stays small and
the chat's next update still goes on at once.

Several processes on PostgreSQL (bot/handlers/core/chat_claims.py): a chat's queue running dry calls
`when_dry`'s hook, which sends the chat's rows other processes left to this one and lets the
chat go; `wake` starts a chat's worker with nothing queued, for that hook alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

log = logging.getLogger(__name__)

# Sends kept in memory per chat as decided (texts, buttons); past that only their rows' ids.
KEPT_PER_CHAT = 64


@dataclass
class _Item:
    run: Callable[[], Awaitable[None]]
    key: Hashable | None
    drop: Callable[[], None] | None
    kept: bool = True  # as decided, in memory (else read back from the outbox)


Ready: TypeAlias = Callable[[int | None], Awaitable[None]]
Dry: TypeAlias = Callable[[int], Awaitable[None]]


class ChatSenders:
    """A FIFO of sends per chat, each worked by a task of its own while it has work."""

    def __init__(self, ready: Ready | None = None) -> None:
        self._ready = ready  # returns once the chat may post (None: at once)
        self._queues: dict[int | None, deque[_Item]] = {}
        self._workers: dict[int | None, asyncio.Task[None]] = {}
        self._kept: dict[int | None, int] = {}  # per chat: waiting sends kept in memory
        self._dry: Dry | None = None  # a chat's queue ran dry (several processes)
        self._inline: Counter[int] = Counter()  # per chat: sends under way outside the queue

    def when_dry(self, dry: Dry) -> None:
        """Call `dry(chat_id)` whenever a chat's queue runs dry, before its worker ends."""
        self._dry = dry

    def wake(self, chat_id: int) -> None:
        """Start the chat's worker with nothing queued (it calls the `when_dry` hook), unless
        the chat's sends are under way (queued or in line: the hook follows them anyway)."""
        if self.busy(chat_id) or self._inline[chat_id]:
            return
        self._queues.setdefault(chat_id, deque())
        self._workers[chat_id] = asyncio.create_task(self._work(chat_id))

    @contextlib.contextmanager
    def in_line(self, chat_id: int) -> Iterator[None]:
        """Sends of the chat under way outside the queue (an update's own, in line)."""
        self._inline[chat_id] += 1
        try:
            yield
        finally:
            self._inline[chat_id] -= 1
            if not self._inline[chat_id]:
                del self._inline[chat_id]

    def active(self) -> list[int]:
        """The chats whose sends are under way here (queued, or in line)."""
        chats = {chat for chat in self._workers if chat is not None} | set(self._inline)
        return sorted(chats)

    def put(
        self,
        chat_id: int | None,
        run: Callable[[], Awaitable[None]],
        *,
        key: Hashable | None = None,
        drop: Callable[[], None] | None = None,
        stored: Callable[[], Awaitable[None]] | None = None,
    ) -> bool:
        """Queue `run` behind the chat's waiting sends (True: always queued). With `key`, a
        waiting send of the same key (not yet begun) is dropped (its `drop` called): only the
        newest goes out. `stored`: the same sends, read back from the outbox — queued instead
        of `run` once the chat keeps KEPT_PER_CHAT sends in memory."""
        queue = self._queues.setdefault(chat_id, deque())
        if key is not None:
            for item in [i for i in queue if i.key == key]:
                queue.remove(item)
                self._count(chat_id, item, -1)
                if item.drop is not None:
                    try:
                        item.drop()
                    except Exception as exc:
                        log.warning("a superseded send was not settled: %s", type(exc).__name__)
        if stored is not None and self.kept(chat_id) >= KEPT_PER_CHAT:
            item = _Item(stored, key, drop, kept=False)
        else:
            item = _Item(run, key, drop)
        queue.append(item)
        self._count(chat_id, item, 1)
        worker = self._workers.get(chat_id)
        if worker is None or worker.done():
            self._workers[chat_id] = asyncio.create_task(self._work(chat_id))
        return True

    def busy(self, chat_id: int | None) -> bool:
        """Whether the chat has sends waiting or under way."""
        worker = self._workers.get(chat_id)
        return worker is not None and not worker.done()

    def waiting(self, chat_id: int | None) -> int:
        return len(self._queues.get(chat_id, ()))

    def kept(self, chat_id: int | None) -> int:
        """How many of the chat's waiting sends are kept in memory as decided."""
        return self._kept.get(chat_id, 0)

    def _count(self, chat_id: int | None, item: _Item, change: int) -> None:
        if item.kept:
            self._kept[chat_id] = self._kept.get(chat_id, 0) + change

    async def _work(self, chat_id: int | None) -> None:
        queue = self._queues[chat_id]
        try:
            while True:
                await self._work_queue(chat_id, queue)
                if self._dry is None or chat_id is None:
                    break
                try:
                    await self._dry(chat_id)
                except Exception as exc:  # the database away: the heartbeat takes it up
                    log.warning("a chat's left rows in %s failed: %s", chat_id, type(exc).__name__)
                if not queue:
                    break
        finally:
            if not queue:
                self._queues.pop(chat_id, None)
                self._kept.pop(chat_id, None)
            if self._workers.get(chat_id) is asyncio.current_task():
                del self._workers[chat_id]

    async def _work_queue(self, chat_id: int | None, queue: deque[_Item]) -> None:
        while queue:
            if self._ready is not None:
                await self._ready(chat_id)
                if not queue:
                    break
            item = queue.popleft()
            self._count(chat_id, item, -1)
            try:
                await item.run()
            except Exception as exc:  # a send reports its own refusals; log the rest
                log.warning("a send in %s failed: %s", chat_id, type(exc).__name__)

    async def join(self) -> None:
        """Return once every chat's waiting sends are through."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def settle(self, grace: float) -> None:
        """At a stop: let the sends finish for `grace` seconds, then cancel them (their rows
        stay unsent in the outbox and go out on the next start)."""
        workers = list(self._workers.values())
        if workers:
            _, late = await asyncio.wait(workers, timeout=grace)
            for worker in late:
                worker.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*late, return_exceptions=True)
        self._queues.clear()
        self._workers.clear()
        self._kept.clear()
