"""A chat's sender (bot/updates/senders.py) through the real update path: a superseded answer's
rows are marked in the chat's database lane, never on the loop in the update's own work; past
the sends a chat keeps in memory the rest are read back from the outbox, and no update sends
in line behind its chat's posts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from telegram import Update

from bot.handlers.core import unsent
from bot.playground.emulator import BotApiEmulator
from bot.store import outbox as rows
from bot.updates import senders
from tests.support.inprocess import InProcessBot, inprocess_bot
from tests.support.scenario import plain


async def _deliver(bot: InProcessBot) -> None:
    """As the bot handles updates: a chat's held posts go to its sender."""
    while True:
        batch = await asyncio.to_thread(bot._take)
        if not batch:
            return
        updates = [Update.de_json(raw, bot.application.bot) for raw in batch]
        for received in await bot.pipeline.receive(updates):
            await bot.pipeline.process(received, defer_reactions=True)


def _in_lane() -> bool:
    task = asyncio.current_task()
    return task is not None and task.get_coro().__qualname__ == "DatabaseLanes._drain"  # type: ignore[union-attr]


async def test_a_superseded_answer_is_marked_in_the_chat_s_database_lane(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(2501, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    marked: list[bool] = []
    settle_sends, settle_send = rows.settle_sends, rows.settle_send

    def watched_many(session: object, *, send_ids: list[int], outcome: str) -> None:
        if outcome == rows.SUPERSEDED:
            marked.append(_in_lane())
        settle_sends(session, send_ids=send_ids, outcome=outcome)  # type: ignore[arg-type]

    def watched_one(session: object, *, send_id: int, outcome: str) -> None:
        if outcome == rows.SUPERSEDED:
            marked.append(_in_lane())
        settle_send(session, send_id=send_id, outcome=outcome)  # type: ignore[arg-type]

    monkeypatch.setattr(rows, "settle_sends", watched_many)
    monkeypatch.setattr(rows, "settle_send", watched_one)
    async with inprocess_bot(emulator, tmp_path, telegram_group_messages_per_minute=2) as bot:
        world.send(group, anna, "/newboard Andrang")
        world.send(group, anna, "/point 1")
        for _ in range(3):  # held behind the group's limit: only the newest goes out
            world.send(group, anna, "/status")
        await _deliver(bot)
        for _ in range(50):
            if marked:
                break
            await asyncio.sleep(0.02)
    assert marked, "no answer superseded"
    assert all(marked), "a superseded answer was marked outside the chat's lane"


async def test_past_the_kept_sends_an_update_is_not_held_and_every_post_goes_out_once(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat's sender keeps 2 sends in memory here; 8 cards decided while the group's limit
    (4 a minute) holds them: every update is handled at once (none sends in line), the rest
    wait as their rows' ids only, and after a stop the next start sends each card once, in
    order."""
    monkeypatch.setattr(senders, "KEPT_PER_CHAT", 2, raising=False)
    monkeypatch.setattr(senders, "WAITING_PER_CHAT", 2, raising=False)  # (before: in line)
    world = emulator.world
    anna = world.person(2502, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    async with inprocess_bot(emulator, tmp_path, telegram_group_messages_per_minute=4) as bot:
        world.send(group, anna, "/newboard Flut")
        await _deliver(bot)
        for point in range(1, 9):
            world.send(group, anna, f"/point {point}")
        started = time.monotonic()
        await _deliver(bot)
        handled_in = time.monotonic() - started
        assert handled_in < 5.0, "an update waited for its chat's posts"
        waiting = bot.pipeline.senders
        assert waiting.kept(group.id) <= 2
        assert waiting.waiting(group.id) >= 3  # the rest queued by their rows' ids
        await bot.pipeline.settle_deferred(0.1)  # a stop: the rest stays in the outbox
        await unsent.release(bot.application.bot_data)
    async with inprocess_bot(emulator, tmp_path) as restarted:
        await unsent.deliver_claimed(restarted.context, None, others_only=False)

    def card(text: str) -> int | None:
        head = plain(text).split(".")[0]
        return int(head) if text.startswith("<b>") and head.isdigit() else None

    cards = [c for t in world.bot_texts(group) if (c := card(t)) is not None]
    assert cards == list(range(1, 9))
