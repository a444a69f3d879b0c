"""Where the units of work run: off the event loop, in few thread hops.

Each update's unit of work is synchronous database work. On the event loop it would stall
every other chat while the database answers; in a thread per unit, handing each one to a
worker and back cost about as much CPU as the work itself (benchmarks/burst.py). A lane is one
worker that takes every unit waiting at that moment in a single hop, runs them one after the
other (each in its own session and transaction, in its own update's context), and hands the
results back. Idle, a unit runs at once; under load, one hop serves many units.

SQLite has one writer at a time anyway: one lane, and the inbox's writes (storing, finishing
updates) queue in it too — two connections of one process taking turns at SQLite's write lock
wait in its busy handler, which sleeps in steps of milliseconds. PostgreSQL gets several lanes,
a chat always in the same one (its order is the pipeline's; this only keeps chats from waiting
on each other), and the inbox's work runs beside them.

In the one lane the inbox's work goes first, in its own order: storing a fetched batch is what
lets polling fetch the next one, and finishing an update is what lets its chat go on (in a
burst of 1,000 replies the last batch was fetched after 1.2 s behind the chats' work, 0.8 s
ahead of it).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine

T = TypeVar("T")
POSTGRES_LANES = 4


@dataclass
class _Lane:
    waiting: list[tuple[contextvars.Context, Callable[[], Any], asyncio.Future[Any]]] = field(
        default_factory=list
    )
    worker: asyncio.Task[None] | None = None
    shared: int = 0


class DatabaseLanes:
    """Run synchronous database work in worker threads, batching what waits."""

    def __init__(self, count: int) -> None:
        self._lanes = [_Lane() for _ in range(max(1, count))]

    @classmethod
    def for_engine(cls, engine: Engine) -> DatabaseLanes:
        return cls(1 if engine.dialect.name == "sqlite" else POSTGRES_LANES)

    async def run(self, key: int | None, work: Callable[[], T]) -> T:
        """Run `work` in the lane of `key` (e.g. a chat id), in the caller's context.

        `key` None: work of no chat in particular (the inbox's). With one lane it queues there,
        ahead of the chats' work; with several it runs in a thread of its own.
        """
        shared = key is None
        if key is None:
            if len(self._lanes) > 1:
                return await asyncio.to_thread(work)
            key = 0
        lane = self._lanes[key % len(self._lanes)]
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        item = (contextvars.copy_context(), work, done)
        if shared:
            lane.waiting.insert(lane.shared, item)
            lane.shared += 1
        else:
            lane.waiting.append(item)
        if lane.worker is None or lane.worker.done():
            lane.worker = asyncio.create_task(self._drain(lane))
        return await done

    async def _drain(self, lane: _Lane) -> None:
        while lane.waiting:
            batch, lane.waiting, lane.shared = lane.waiting, [], 0
            outcomes = await asyncio.to_thread(_run_all, [(c, w) for c, w, _ in batch])
            for (_, _, done), (ok, value) in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)


def _run_all(
    batch: list[tuple[contextvars.Context, Callable[[], Any]]],
) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for context, work in batch:
        try:
            outcomes.append((True, context.run(work)))
        except Exception as exc:  # handed to the waiting caller
            outcomes.append((False, exc))
    return outcomes
