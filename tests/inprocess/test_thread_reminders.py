"""A wave of due reminders through the bot's application polling in a thread (BotThread; the
flow of /remind itself is tested with the test's clock: tests/inprocess/test_reminder_flow.py)."""

from __future__ import annotations

import time

import pytest

from bot.playground.emulator import World
from tests.support.harness import BotThread, wait_until
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e
WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


def test_a_wave_of_due_reminders_is_spread_not_dropped(world: World, bot: BotThread) -> None:
    from bot.playground.emulator import Fault
    from tests.support.dbtools import make_reminder_due

    people = [world.person(6100 + i, f"M{i}") for i in range(40)]
    groups = [world.group(f"G{i}", owner=people[i], supergroup=True) for i in range(40)]
    bot.env["TELEGRAM_MESSAGES_PER_SECOND"] = (
        "10"  # a tight overall limit, to make the wave queue up
    )
    bot.start()
    for person, group in zip(people, groups, strict=True):
        Team(world, group).say(person, "/newboard Welle")
    world.inject(Fault("sendMessage", "429", count=3, retry_after=1))
    for board_id in range(1, 41):
        make_reminder_due(bot.database_url, board_id)
    wait_until(
        lambda: all(any("⏰" in t for t in world.bot_texts(g)) for g in groups),
        timeout=120,
        what="40 reminders",
    )
    time.sleep(2)
    for group in groups:
        assert sum("⏰" in t for t in world.bot_texts(group)) == 1
    assert len([r for r in world.requests if r.description == "injected 429"]) == 3
    assert world.refusals() == []
