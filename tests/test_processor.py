"""Per-chat order with concurrency across chats, and the ledger that confirms only finished work."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Chat, Message, Update

from bot.polling import UpdateLedger
from bot.processor import ChatOrderedProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "group")
    return Update(update_id, message=Message(update_id, None, chat))  # type: ignore[arg-type]


async def test_one_chat_in_order_many_chats_at_once() -> None:
    ledger = UpdateLedger()
    processor = ChatOrderedProcessor(ledger, max_concurrent_updates=64)
    ledger.handed_out(set(range(1, 41)))
    seen: dict[int, list[int]] = {}
    running = 0
    most = 0

    async def work(update: Update, delay: float) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(delay)
        assert update.effective_chat is not None
        seen.setdefault(update.effective_chat.id, []).append(update.update_id)
        running -= 1

    tasks = []
    for update_id in range(1, 41):
        update = _update(update_id, -(update_id % 4) - 1)
        # earlier updates take longer: order must come from the processor, not from timing
        delay = 0.05 if update_id <= 20 else 0.01
        tasks.append(asyncio.create_task(processor.process_update(update, work(update, delay))))
    await asyncio.gather(*tasks)
    for ids in seen.values():
        assert ids == sorted(ids)
    assert most == 4  # one at a time per chat, all four chats at once
    assert ledger.safe_offset(41) == 41


async def test_the_ledger_never_confirms_unfinished_updates() -> None:
    ledger = UpdateLedger()
    ledger.handed_out({10, 11, 12})
    assert ledger.safe_offset(13) == 10
    ledger.finished(10)
    ledger.finished(12)
    assert ledger.safe_offset(13) == 11
    assert not ledger.is_new(12)
    waiter = asyncio.create_task(ledger.wait_finished(13, 5))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    ledger.finished(11)
    await asyncio.wait_for(waiter, 1)
    assert ledger.safe_offset(13) == 13
    ledger.forget_below(13)
    assert ledger.is_new(12)


async def test_a_failing_update_still_counts_as_finished() -> None:
    ledger = UpdateLedger()
    processor = ChatOrderedProcessor(ledger)
    ledger.handed_out({5})

    async def boom() -> None:
        raise RuntimeError("handler failed")

    with contextlib.suppress(RuntimeError):
        await processor.process_update(_update(5, -1), boom())
    assert ledger.safe_offset(6) == 6
