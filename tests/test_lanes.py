"""Database lanes: work runs off the event loop, in the caller's context, batched under load,
and a failure reaches only its own caller."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest

from bot.store import lanes as lanes_module
from bot.store.lanes import DatabaseLanes

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


async def test_work_runs_in_a_worker_with_the_callers_context() -> None:
    lanes = DatabaseLanes(1)
    loop_thread = threading.get_ident()

    async def ask(name: str) -> tuple[str, int]:
        WHO.set(name)
        return await lanes.run(7, lambda: (WHO.get(), threading.get_ident()))

    results = await asyncio.gather(*(ask(f"u{i}") for i in range(50)))
    assert [who for who, _ in results] == [f"u{i}" for i in range(50)]
    assert all(thread != loop_thread for _, thread in results)


async def test_waiting_work_shares_one_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    lanes = DatabaseLanes(1)
    batches: list[int] = []
    run_all = lanes_module._run_all

    def counted(batch: list[tuple[contextvars.Context, Any]]) -> list[tuple[bool, Any]]:
        batches.append(len(batch))
        return run_all(batch)

    monkeypatch.setattr(lanes_module, "_run_all", counted)
    gate = threading.Event()
    blocker = asyncio.create_task(lanes.run(1, lambda: gate.wait(5)))
    await asyncio.sleep(0.05)
    rest = [asyncio.create_task(lanes.run(1, lambda: None)) for _ in range(20)]
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(blocker, *rest)
    assert batches == [1, 20]  # the 20 that waited went to the worker in one hop


async def test_a_failure_reaches_only_its_caller() -> None:
    lanes = DatabaseLanes(2)

    def broken() -> int:
        raise ValueError("this unit failed")

    good = asyncio.create_task(lanes.run(3, lambda: 42))
    bad = asyncio.create_task(lanes.run(3, broken))
    assert await good == 42
    with pytest.raises(ValueError, match="this unit failed"):
        await bad


async def test_the_inbox_work_goes_ahead_of_waiting_chats_in_its_own_order() -> None:
    lanes = DatabaseLanes(1)  # SQLite: one lane for everything
    order: list[str] = []
    gate = threading.Event()
    blocker = asyncio.create_task(lanes.run(1, lambda: gate.wait(5)))
    await asyncio.sleep(0.05)

    def step(name: str) -> None:
        order.append(name)

    waiting = [
        asyncio.create_task(lanes.run(2, lambda: step("chat a"))),
        asyncio.create_task(lanes.run(None, lambda: step("store batch"))),
        asyncio.create_task(lanes.run(3, lambda: step("chat b"))),
        asyncio.create_task(lanes.run(None, lambda: step("finish updates"))),
    ]
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(blocker, *waiting)
    assert order == ["store batch", "finish updates", "chat a", "chat b"]


async def test_the_inbox_work_runs_beside_several_lanes() -> None:
    lanes = DatabaseLanes(4)  # PostgreSQL: the chats' lanes stay free
    gate = threading.Event()
    busy = [asyncio.create_task(lanes.run(key, lambda: gate.wait(5))) for key in range(4)]
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(lanes.run(None, lambda: "stored"), 2) == "stored"
    gate.set()
    await asyncio.gather(*busy)
