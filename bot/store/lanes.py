"""Where the units of work run: in database lanes, in few hops.

Each update's unit of work is synchronous database work. A lane takes every unit waiting at
that moment and runs them one after the other (each in its own session and transaction, in its
own update's context), then hands the results back. Idle, a unit runs at once; under load, one
turn serves many units.

PostgreSQL answers over the network: its lanes run in worker threads (a slow answer never
stalls the other chats), several lanes, a chat always in the same one (its order is the
pipeline's; this only keeps chats from waiting on each other); the inbox's work runs beside
them.

SQLite answers from a local file in microseconds, and has one writer at a time anyway: one lane,
run on the event loop itself in slices of at most SLICE_SECONDS; the inbox's writes (storing a
batch, finishing updates) run on the loop too, at once. In a worker thread every call into
SQLite hands Python's lock to the loop and back: a burst of replies then cost a fifth more CPU
and its last reply waited 2.2 s instead of 1.9 s (benchmarks/burst.py); and two writers of one
process taking turns at SQLite's write lock wait in its busy handler, which sleeps in steps of
milliseconds.

The inbox's work goes ahead of the chats', in its own order: storing a fetched batch is what
lets polling fetch the next one (in a burst of 1,000 replies the last batch was fetched after
1.2 s behind the chats' work, 0.8 s ahead of it). On the loop it does not even queue: waiting for
the lane's next turn had cost a loop iteration or two per batch (tens of milliseconds under
load), and Telegram's next batch was asked for that much later.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine

T = TypeVar("T")
POSTGRES_LANES = 4
SLICE_SECONDS = 0.02  # the longest the loop runs SQLite work before it looks at the network

_Item = tuple[contextvars.Context, Callable[[], Any], asyncio.Future[Any]]


@dataclass
class _Lane:
    inbox: list[_Item] = field(default_factory=list)  # work of no chat: goes first
    chats: list[_Item] = field(default_factory=list)
    worker: asyncio.Task[None] | None = None


class DatabaseLanes:
    """Run synchronous database work in lanes, batching what waits: in worker threads, or
    (`on_loop`) on the event loop in short slices."""

    def __init__(self, count: int, *, on_loop: bool = False) -> None:
        self._lanes = [_Lane() for _ in range(max(1, count))]
        self._on_loop = on_loop

    @classmethod
    def for_engine(cls, engine: Engine) -> DatabaseLanes:
        if engine.dialect.name == "sqlite":
            return cls(1, on_loop=True)
        return cls(POSTGRES_LANES)

    async def run(self, key: int | None, work: Callable[[], T]) -> T:
        """Run `work` in the lane of `key` (e.g. a chat id), in the caller's context.

        `key` None: work of no chat in particular (the inbox's): on the loop it runs at once
        (nothing else is in a transaction then: a slice never awaits); with several lanes in a
        thread of its own; with one lane in a thread it queues there, ahead of the chats' work.
        """
        if key is None and len(self._lanes) > 1:
            return await asyncio.to_thread(work)
        if key is None and self._on_loop:
            return work()
        lane = self._lanes[0 if key is None else key % len(self._lanes)]
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        (lane.inbox if key is None else lane.chats).append((contextvars.copy_context(), work, done))
        if lane.worker is None or lane.worker.done():
            lane.worker = asyncio.create_task(self._drain(lane))
        return await done

    async def _drain(self, lane: _Lane) -> None:
        while lane.inbox or lane.chats:
            from_inbox = len(lane.inbox)
            batch = lane.inbox + lane.chats
            lane.inbox, lane.chats = [], []
            work = [(context, job) for context, job, _ in batch]
            if self._on_loop:
                outcomes = _run_all(work, until=time.monotonic() + SLICE_SECONDS)
                rest = batch[len(outcomes) :]  # back to the front, for the next slice
                lane.inbox[:0] = rest[: max(0, from_inbox - len(outcomes))]
                lane.chats[:0] = rest[max(0, from_inbox - len(outcomes)) :]
            else:
                outcomes = await asyncio.to_thread(_run_all, work)
            for (_, _, done), (ok, value) in zip(batch, outcomes, strict=False):
                if done.done():
                    continue
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)
            if self._on_loop:
                await asyncio.sleep(0)  # the network's turn


def _run_all(
    batch: list[tuple[contextvars.Context, Callable[[], Any]]], until: float | None = None
) -> list[tuple[bool, Any]]:
    """Run the batch in order; with `until`, stop after the first unit that ends past it."""
    outcomes: list[tuple[bool, Any]] = []
    for context, work in batch:
        try:
            outcomes.append((True, context.run(work)))
        except Exception as exc:  # handed to the waiting caller
            outcomes.append((False, exc))
        if until is not None and time.monotonic() >= until:
            break
    return outcomes
