"""End-to-end: a reminder set with /remind arrives in the group as the digest of empty points."""

from __future__ import annotations

import html
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.render.when import local_time
from tests.emulator import World
from tests.harness import BotProcess, wait_until
from tests.scenario import Team

pytestmark = pytest.mark.e2e
WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


def test_remind_in_the_near_future_arrives(world: World, bot: BotProcess) -> None:
    anna = world.person(601, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Erinnerung")
    assert "Montag, 09:00 (Europe/Berlin)" in team.last_text()
    team.say(anna, "/timezone europe/vienna")
    assert "Europe/Vienna" in team.last_text()
    card = team.open_card(anna, 1)
    for point in range(1, 20):
        team.entry(anna, f"/ist {point} erledigt")
    del card
    now = datetime.now(ZoneInfo("Europe/Vienna"))
    if now.second > 45:  # leave the bot time to store it before the minute begins
        time.sleep(61 - now.second)
        now = datetime.now(ZoneInfo("Europe/Vienna"))
    target = now + timedelta(minutes=1)
    team.say(anna, f"/remind {WEEKDAYS[target.weekday()]} {target:%H:%M}")
    assert f"{target:%H:%M}" in team.last_text()
    team.say(anna, "/status")
    assert f"Nächste Erinnerung: {local_time(target, 'Europe/Vienna', 'de')}" in html.unescape(
        team.last_text()
    )
    before = team.bot_count()
    wait_until(
        lambda: any("Erinnerung –" in t for t in team.texts_since(before)),
        timeout=90,
        what="the digest",
    )
    reminder = html.unescape(re.sub(r"<[^>]+>", "", team.texts_since(before)[0]))
    assert "1 von 20 Punkten" in reminder
    assert "20. Kommunikation zu Partnern" in reminder
    assert "19. Individualisierung" not in reminder
    assert "/ist" in reminder
    time.sleep(2.5)  # two more sweeps: nothing is sent again
    assert sum("Erinnerung –" in t for t in team.texts_since(before)) == 1
    assert world.refusals() == []


def test_a_wave_of_due_reminders_is_spread_not_dropped(world: World, bot: BotProcess) -> None:
    from tests.dbtools import make_reminder_due
    from tests.emulator import Fault

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
