"""The bot's application polling in a thread (BotThread): menus are set on every start, and a
team's taps and replies to prompts keep working across a restart."""

from __future__ import annotations

import pytest

from bot.playground.emulator import World
from tests.support.cards import last
from tests.support.harness import BotThread, wait_until
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e


def test_menus_on_every_start_and_taps_across_a_restart(world: World, bot: BotThread) -> None:
    anna = world.person(2201, "Anna")
    ben = world.person(2202, "Ben")
    group = world.group("Team", owner=anna)
    team = Team(world, group)
    bot.start()
    wait_until(lambda: len(world.calls("setMyCommands")) == 6, what="menus")
    team.say(anna, "/newboard Prozess")
    world.press_label(group, anna, last(world, group), "1. Kunde")
    card = team.wait_card(1)
    before = team.bot_count()
    world.press_label(group, ben, card, "Ist")
    wait_until(lambda: team.bot_count() > before, what="the prompt")
    prompt = last(world, group)
    bot.restart()
    wait_until(lambda: len(world.calls("setMyCommands")) == 12, what="menus again")
    team.entry(ben, "nach dem Neustart", reply_to=prompt.message_id)
    world.press_label(group, anna, card, "Weiter ▶")
    team.wait_card(2)
    assert world.refusals() == []
    assert world.violations == []
