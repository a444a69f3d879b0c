"""Database lanes: work runs off the event loop, in the caller's context, batched under load,
and a failure reaches only its own caller."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from typing import Any

import pytest

from bot.store import lanes as lanes_module
from bot.store.lanes import DatabaseLanes

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


async def test_work_runs_in_a_worker_with_the_callers_context() -> None:
    lanes = DatabaseLanes(1)  # as for PostgreSQL
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


@pytest.mark.parametrize("on_loop", [False, True])
async def test_the_inbox_work_goes_ahead_of_waiting_chats_in_its_own_order(on_loop: bool) -> None:
    lanes = DatabaseLanes(1, on_loop=on_loop)  # SQLite: one lane for everything
    order: list[str] = []
    gate = threading.Event()
    busy = []
    if not on_loop:  # the worker thread is busy while the others queue
        busy.append(asyncio.create_task(lanes.run(1, lambda: gate.wait(5))))
        await asyncio.sleep(0.05)
    # (on the loop, all four are queued before the lane's first turn)
    waiting = [
        asyncio.create_task(lanes.run(2, lambda: order.append("chat a"))),
        asyncio.create_task(lanes.run(None, lambda: order.append("store batch"))),
        asyncio.create_task(lanes.run(3, lambda: order.append("chat b"))),
        asyncio.create_task(lanes.run(None, lambda: order.append("finish updates"))),
    ]
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(*busy, *waiting)
    assert order == ["store batch", "finish updates", "chat a", "chat b"]


async def test_on_the_loop_a_lane_gives_the_network_its_turn_between_slices() -> None:
    lanes = DatabaseLanes(1, on_loop=True)
    loop_thread = threading.get_ident()
    finished: list[int] = []
    seen_by_others: list[int] = []

    def unit(number: int) -> int:
        time.sleep(lanes_module.SLICE_SECONDS * 0.75)  # two units fill a slice
        finished.append(number)
        return threading.get_ident()

    async def network() -> None:
        while len(finished) < 4:
            seen_by_others.append(len(finished))
            await asyncio.sleep(0)

    units = [asyncio.create_task(lanes.run(1, functools.partial(unit, n))) for n in range(4)]
    threads = await asyncio.gather(*units, network())
    assert finished == [0, 1, 2, 3]
    assert threads[:4] == [loop_thread] * 4
    # the loop ran between slices: [0, 1] and [2, 3], or finer when a sleep overran its slice
    # on a busy machine — never all four units at one go
    assert any(0 < seen < 4 for seen in seen_by_others), seen_by_others


async def test_the_inbox_work_runs_beside_several_lanes() -> None:
    lanes = DatabaseLanes(4)  # PostgreSQL: the chats' lanes stay free
    gate = threading.Event()
    busy = [asyncio.create_task(lanes.run(key, lambda: gate.wait(5))) for key in range(4)]
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(lanes.run(None, lambda: "stored"), 2) == "stored"
    gate.set()
    await asyncio.gather(*busy)


async def test_on_the_loop_the_inbox_work_runs_at_once_without_waiting_for_the_lane() -> None:
    lanes = DatabaseLanes(1, on_loop=True)  # SQLite
    order: list[str] = []
    chat = asyncio.create_task(lanes.run(1, lambda: order.append("chat")))
    await asyncio.sleep(0)  # the chat's unit is queued; the lane's turn has not come yet

    def store() -> int:
        order.append("store batch")
        return threading.get_ident()

    assert await lanes.run(None, store) == threading.get_ident()  # on the loop, at once
    assert order == ["store batch"]
    await chat
    assert order == ["store batch", "chat"]
