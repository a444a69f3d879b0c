"""End-to-end on PostgreSQL: the real bot, and two bot processes sharing one database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.playground.emulator import BotApiEmulator, World
from tests.support.dbtools import live_entries, make_reminder_due, rows
from tests.support.harness import BotProcess, wait_until
from tests.support.scenario import Team

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_a_team_on_postgresql(
    world: World, emulator: BotApiEmulator, postgres_url: str, tmp_path: Path
) -> None:
    bot = BotProcess(emulator, postgres_url, tmp_path).start()
    try:
        anna = world.person(9_000_000_001, "Anna")  # a user id beyond 32 bits
        group = world.group("PG", owner=anna, supergroup=True)
        team = Team(world, group)
        team.say(anna, "/newboard Postgres")
        card = team.open_card(anna, 1)
        team.entry(anna, "Soll: große Zahlen & <Zeichen>", reply_to=card.message_id)
        team.entry(anna, "/ist 2 zweiter Punkt")
        bot.restart()
        team.entry(anna, "/ist 3 nach dem Neustart")
        assert [e[2] for e in live_entries(postgres_url)] == [
            "große Zahlen & <Zeichen>",
            "zweiter Punkt",
            "nach dem Neustart",
        ]
        assert rows(postgres_url, "select author_id from entry") == [(9_000_000_001,)] * 3
    finally:
        bot.stop()
    assert bot.tracebacks_while_running() == []


def test_two_processes_send_each_reminder_once(
    world: World, emulator: BotApiEmulator, postgres_url: str, tmp_path: Path
) -> None:
    first = BotProcess(emulator, postgres_url, tmp_path / "a")
    second = BotProcess(emulator, postgres_url, tmp_path / "b")
    for process in (first, second):
        process.workdir.mkdir()
    first.start()
    people = [world.person(9100 + i, f"M{i}") for i in range(30)]
    groups = [world.group(f"G{i}", owner=people[i], supergroup=True) for i in range(30)]
    try:
        for person, group in zip(people, groups, strict=True):
            Team(world, group).say(person, "/newboard Zwei")
        second.start()  # both now sweep the same database every second
        for board_id in range(1, 31):
            make_reminder_due(postgres_url, board_id)
        wait_until(
            lambda: all(any("⏰" in t for t in world.bot_texts(g)) for g in groups),
            timeout=60,
            what="30 reminders",
        )
        time.sleep(3)
        for group in groups:
            assert sum("⏰" in t for t in world.bot_texts(group)) == 1
        sent = "select count(*) from reminder_sent where outcome = 'sent'"
        wait_until(lambda: rows(postgres_url, sent) == [(30,)], what="30 outcomes recorded")
        assert rows(postgres_url, "select count(*) from reminder_sent") == [(30,)]
    finally:
        first.stop()
        second.stop()
    assert world.refusals() == []
