"""The schedules' posts are outbox rows stored with their claims (SPEC §12): a process that
dies after a reminder's or the autopilot's claim was committed, before Telegram got the post,
leaves the row, and the next delivery sends it — once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import clock
from bot.handlers import autopilot, outbox, reminders, unsent
from bot.playground.emulator import BotApiEmulator
from tests.inprocess import inprocess_bot
from tests.scenario import plain

VIENNA = ZoneInfo("Europe/Vienna")
WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


def _died_after_the_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies right after the claim's commit: nothing is delivered in it."""

    async def nothing(self: outbox.Outbox, context: Any) -> None:
        return None

    monkeypatch.setattr(outbox.Outbox, "deliver", nothing)


async def test_a_reminder_claimed_before_a_crash_is_sent_by_the_next_delivery(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(611, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    now = [datetime(2026, 11, 26, 14, 30, 20, tzinfo=VIENNA)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Erinnerung")
        world.send(group, anna, "/timezone europe/vienna")
        for point in range(1, 4):
            world.send(group, anna, f"/ist {point} erledigt")
        target = now[0].replace(second=0) + timedelta(minutes=1)
        world.send(group, anna, f"/remind {WEEKDAYS[target.weekday()]} {target:%H:%M}")
        await bot.deliver()
        before = len(world.bot_texts(group))
        now[0] = target + timedelta(seconds=5)
        with monkeypatch.context() as crash:
            _died_after_the_commit(crash)
            await reminders.sweep(bot.context, now[0])
        assert len(world.bot_texts(group)) == before  # claimed, not sent
        assert await reminders.sweep(bot.context, now[0]) == 0  # claimed once: not again
        now[0] += timedelta(minutes=5)  # the dead process's lease ran out
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) == 1
        digest = [plain(t) for t in world.bot_texts(group)[before:]]
        assert len(digest) == 1
        assert "Erinnerung" in digest[0]
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) == 0


async def test_an_autopilot_card_claimed_before_a_crash_is_posted_by_the_next_delivery(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(612, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    now = [datetime(2026, 11, 26, 8, 0, tzinfo=VIENNA)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Takt")
        world.send(group, anna, "/pace täglich 09:00")
        await bot.deliver()
        before = len(world.bot_texts(group))
        now[0] = datetime(2026, 11, 26, 9, 0, 5, tzinfo=VIENNA)
        with monkeypatch.context() as crash:
            _died_after_the_commit(crash)
            await autopilot.sweep(bot.context, now[0])
        assert len(world.bot_texts(group)) == before
        assert await autopilot.sweep(bot.context, now[0]) == 0
        now[0] += timedelta(minutes=5)
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) >= 1
        posted = [plain(t) for t in world.bot_texts(group)[before:]]
        assert any(text.startswith("1. ") for text in posted), posted
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) == 0
