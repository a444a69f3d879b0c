"""A chat's sender when its queue runs dry (several processes, bot/updates/senders.py): the hook
that sends the rows other processes left runs after the chat's queued sends, again after sends
queued meanwhile, and on its own when woken; never beside the chat's sends in line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.updates.senders import ChatSenders

CHAT = -100123


async def test_the_dry_hook_follows_the_chat_s_sends_and_what_was_queued_meanwhile() -> None:
    senders = ChatSenders()
    done: list[str] = []

    async def dry(chat_id: int) -> None:
        done.append(f"dry {chat_id}")
        if done.count(f"dry {chat_id}") == 1:
            senders.put(chat_id, _send(done, "queued while dry"))

    senders.when_dry(dry)
    senders.put(CHAT, _send(done, "first"))
    senders.put(CHAT, _send(done, "second"))
    assert senders.active() == [CHAT]
    await senders.join()
    assert done == ["first", "second", f"dry {CHAT}", "queued while dry", f"dry {CHAT}"]
    assert senders.active() == []


async def test_woken_it_runs_the_hook_alone_but_not_beside_a_send_in_line() -> None:
    senders = ChatSenders()
    done: list[int] = []

    async def dry(chat_id: int) -> None:
        done.append(chat_id)

    senders.when_dry(dry)
    with senders.in_line(CHAT):
        assert senders.active() == [CHAT]
        senders.wake(CHAT)  # the send in line wakes it when it is through
        await asyncio.sleep(0)
        assert not senders.busy(CHAT)
    senders.wake(CHAT)
    await senders.join()
    assert done == [CHAT]


def _send(done: list[str], name: str) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        done.append(name)

    return send
