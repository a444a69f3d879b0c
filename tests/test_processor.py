"""Per-chat order with concurrency across chats (the PTB update processor of the benchmark)."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.processor import ChatOrderedProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "group")
    return Update(update_id, message=Message(update_id, None, chat))  # type: ignore[arg-type]


async def test_one_chat_in_order_many_chats_at_once() -> None:
    processor = ChatOrderedProcessor(max_concurrent_updates=64)
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
