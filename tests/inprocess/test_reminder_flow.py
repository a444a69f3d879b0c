"""/remind, /timezone and /status, then the digest at its due time — with the test's clock."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import clock
from bot.handlers import reminders
from bot.playground.emulator import BotApiEmulator
from bot.render.when import local_time
from tests.support.inprocess import inprocess_bot
from tests.support.scenario import plain

VIENNA = ZoneInfo("Europe/Vienna")
WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


async def test_a_reminder_set_for_the_next_minute_arrives_once(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(601, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    now = [datetime(2026, 11, 26, 14, 30, 20, tzinfo=VIENNA)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    async with inprocess_bot(emulator, tmp_path) as bot:

        def last() -> str:
            return html.unescape(world.bot_texts(group)[-1])

        world.send(group, anna, "/newboard Erinnerung")
        await bot.deliver()
        assert "Montag, 09:00 (Europe/Berlin)" in last()
        world.send(group, anna, "/timezone europe/vienna")
        await bot.deliver()
        assert "Europe/Vienna" in last()
        for point in range(1, 20):
            world.send(group, anna, f"/ist {point} erledigt")
        await bot.deliver()
        target = now[0].replace(second=0) + timedelta(minutes=1)
        world.send(group, anna, f"/remind {WEEKDAYS[target.weekday()]} {target:%H:%M}")
        await bot.deliver()
        assert f"{target:%H:%M}" in last()
        world.send(group, anna, "/status")
        await bot.deliver()
        assert f"Nächste Erinnerung: {local_time(target, 'Europe/Vienna', 'de')}" in last()

        before = len(world.bot_texts(group))
        assert await reminders.sweep(bot.context, now[0]) == 0  # not due yet
        now[0] = target + timedelta(seconds=5)
        assert await reminders.sweep(bot.context, now[0]) == 1
        digest = [plain(t) for t in world.bot_texts(group)[before:]]
        assert len(digest) == 1
        assert "1 von 20 Punkten" in digest[0]
        assert "20. Kommunikation zu Partnern" in digest[0]
        assert "19. Individualisierung" not in digest[0]
        assert re.search(r"/ist|Ist", digest[0])
        # two more sweeps, also a little later: nothing is sent again
        assert await reminders.sweep(bot.context, now[0]) == 0
        assert await reminders.sweep(bot.context, now[0] + timedelta(minutes=5)) == 0
        assert len(world.bot_texts(group)) == before + 1
        assert world.refusals() == []
