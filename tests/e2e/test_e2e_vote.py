"""End-to-end: the team votes on its plan (SPEC §15) — `/vote`, the emulator's polls answered by
people, `/vote stop`, the end passing while the bot is down, and the plan ordered by votes."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.playground.emulator import Person, World
from bot.playground.emulator.model import Fault
from bot.playground.emulator.polls import PollState
from tests.support.cards import last
from tests.support.dbtools import _engine, rows
from tests.support.harness import BotProcess, BotThread, wait_until
from tests.support.opened import OpenedBoard
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e

# 7 measures in area 1 (points 1–4), 7 in area 3 (points 6–11): two polls of 7
AREA_ONE = [1, 2, 3, 4, 1, 2, 3]
AREA_THREE = [6, 7, 8, 9, 10, 11, 6]


def _measures(team: Team, anna: Person, points: list[int]) -> None:
    for index, point in enumerate(points, start=1):
        team.entry(anna, f"/soll {point} Maßnahme {point}-{index} <sofort>")


def _ballots(database_url: str) -> int:
    return int(str(rows(database_url, "select count(*) from vote_ballot")[0][0]))


def _polls(world: World, team: Team, count: int) -> list[PollState]:
    wait_until(lambda: len(world.polls_in(team.chat)) >= count, what=f"{count} polls")
    return world.polls_in(team.chat)


def _end_vote_in_the_past(database_url: str) -> None:
    past: Any = datetime.now(UTC) - timedelta(minutes=5)
    if database_url.startswith("sqlite"):
        past = past.replace(tzinfo=None)
    with _engine(database_url).begin() as connection:
        connection.execute(text("update vote set ends_at = :past"), {"past": past})


def test_a_team_votes_and_the_plan_follows_its_choice(world: World, bot: BotThread) -> None:
    anna = world.person(2401, "Anna")
    ben = world.person(2402, "Ben")
    carla = world.person(2403, "Carla")
    dora = world.person(2404, "Dora")
    group = world.group("Team", owner=anna)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Prozess")
    team.say(anna, "/vote")
    assert "keine offenen Maßnahmen" in team.last_text()
    _measures(team, anna, AREA_ONE + AREA_THREE)

    team.say(ben, "/vote")
    assert "Moderator" in team.last_text()
    team.say(anna, "/vote 0")
    assert "keine Dauer" in team.last_text()
    assert world.calls("sendPoll") == []

    team.say(anna, "/vote 24")
    first, second = _polls(world, team, 2)
    assert any("14 offene Maßnahmen, 2 Umfragen" in t for t in team.texts_since(0))
    for poll, part in ((first, "1/2"), (second, "2/2")):
        assert not poll.is_anonymous
        assert poll.allows_multiple_answers
        assert len(poll.options) == 7
        assert f"({part}:" in poll.question
        assert "etwa 2 von 7" in poll.question
    assert first.options[0] == "Nr. 1 – Maßnahme 1-1 <sofort>"
    assert first.options[1] == "Nr. 5 – Maßnahme 1-5 <sofort>"  # area order: point, number
    assert all(option.startswith("Nr. ") for option in first.options + second.options)
    team.say(anna, "/vote")
    assert "läuft schon" in team.last_text()

    world.answer_poll(ben, first, [0, 2])  # Nr. 1, Nr. 2
    world.answer_poll(carla, first, [2])  # Nr. 2
    world.answer_poll(carla, second, [1])  # point 6's second measure: Nr. 14
    world.answer_poll(ben, first, [2, 4])  # changed his mind: Nr. 2, Nr. 3
    world.answer_poll(dora, second, [0])
    world.answer_poll(dora, second, [])  # taken back
    wait_until(lambda: _ballots(bot.database_url) == 4, what="the current choices")
    team.say(carla, "/status")
    assert "Abstimmung läuft bis" in team.last_text()
    assert "bisher 2 Teilnehmende" in team.last_text()

    before = len(world.bot_texts(group))
    team.say(anna, "/vote stop")
    wait_until(lambda: all(p.is_closed for p in world.polls_in(group)), what="polls stopped")
    wait_until(lambda: any("Ergebnis" in t for t in team.texts_since(before)), what="result")
    result = next(t for t in team.texts_since(before) if "Ergebnis" in t)
    lines = result.splitlines()
    assert "Abgestimmt haben 2 Personen." in lines
    ranked = [line for line in lines if line[:1].isdigit()]
    assert ranked[0].startswith("1. <b>Nr. 2</b> (2 Stimmen)")
    assert ranked[1].startswith("2. <b>Nr. 3</b> (1 Stimme)")
    assert ranked[2].startswith("3. <b>Nr. 14</b> (1 Stimme)")
    assert ranked[3].startswith("4. <b>Nr. 1</b> (0 Stimmen)")  # taken back; ties: area order
    assert "&lt;sofort&gt;" in ranked[0]
    assert len(ranked) == 14
    with pytest.raises(AssertionError, match="closed"):
        world.answer_poll(dora, first, [1])

    team.say(ben, "/plan stimmen")
    plan = team.last_text()
    assert "nach Stimmen" in plan
    assert plan.index("Nr. 2</b>") < plan.index("Nr. 3</b>") < plan.index("Nr. 14</b>")
    assert plan.index("Nr. 14</b>") < plan.index("Nr. 1</b>")
    assert "🗳 2 Stimmen" in plan

    team.say(anna, "/vote stop")
    assert "keine Abstimmung" in team.last_text()

    # Ben forgets himself: his picks go, the plan counts what is left
    team.say(ben, "/forgetme")
    world.press_label(group, ben, last(world, group), "Löschen")
    wait_until(lambda: _ballots(bot.database_url) == 2, what="Ben's picks deleted")
    team.say(carla, "/plan votes")
    assert re.search(r"Nr\. 2</b> · [^\n]* · 🗳 1 Stimme\n", team.last_text())
    assert len(world.calls("stopPoll")) == 2
    assert world.refusals() == []
    assert world.violations == []


def test_the_plan_button_starts_a_vote_for_moderators(
    opened_board: OpenedBoard, world: World
) -> None:
    scene = opened_board
    group, anna, ben, team = scene.group, scene.anna, scene.ben, scene.team
    _measures(team, anna, [1, 2])
    team.say(ben, "/plan")
    plan = last(world, group)
    world.press_label(group, ben, plan, "Abstimmen")
    time.sleep(0.5)
    assert world.calls("sendPoll") == []  # Ben may not
    world.press_label(group, anna, plan, "Abstimmen")
    (poll,) = _polls(world, team, 1)
    assert poll.options == ["Nr. 1 – Maßnahme 1-1 <sofort>", "Nr. 2 – Maßnahme 2-2 <sofort>"]
    assert "1/" not in poll.question
    team.say(ben, "/plan")
    labels = [
        button["text"]
        for row in (last(world, group).reply_markup or {}).get("inline_keyboard", [])
        for button in row
    ]
    assert not any("Abstimmen" in label for label in labels)  # one vote at a time
    team.say(anna, "/close")
    closing = len(world.bot_texts(group))
    world.press_label(group, anna, world.bot_messages(group)[-1], "Schließen")
    wait_until(lambda: len(world.bot_texts(group)) > closing, what="the board closed")
    before = len(world.bot_texts(group))
    team.say(anna, "/vote")
    wait_until(
        lambda: any("nicht mehr abgestimmt" in t for t in team.texts_since(before)),
        what="the refusal on a closed board",
    )
    assert world.refusals() == []


def test_a_vote_survives_a_restart_and_ends_while_the_bot_is_down(
    world: World, bot_process: BotProcess
) -> None:
    anna = world.person(2421, "Anna")
    ben = world.person(2422, "Ben")
    carla = world.person(2423, "Carla")
    group = world.group("Team", owner=anna)
    team = Team(world, group)
    bot_process.start()
    team.say(anna, "/newboard Prozess")
    allowed = json.loads(world.calls("getUpdates")[-1].params.get("allowed_updates") or "[]")
    assert "poll_answer" in allowed
    _measures(team, anna, [1, 5, 6])
    team.say(anna, "/vote")
    (poll,) = _polls(world, team, 1)
    world.answer_poll(ben, poll, [2])
    wait_until(lambda: _ballots(bot_process.database_url) == 1, what="Ben's pick")

    bot_process.restart()
    world.answer_poll(carla, poll, [1, 2])
    wait_until(lambda: _ballots(bot_process.database_url) == 3, what="Carla's picks")
    bot_process.stop()
    _end_vote_in_the_past(bot_process.database_url)
    before = len(world.bot_texts(group))
    bot_process.start()
    wait_until(lambda: poll.is_closed, what="the poll stopped at start")
    wait_until(lambda: any("Ergebnis" in t for t in team.texts_since(before)), what="result")
    time.sleep(2.5)  # a few more sweeps: nothing is stopped or posted twice
    assert poll.stops == 1
    assert len(world.calls("stopPoll")) == 1
    results = [t for t in team.texts_since(before) if "Ergebnis" in t]
    assert len(results) == 1
    assert "1. <b>Nr. 3</b> (2 Stimmen)" in results[0]
    assert "2. <b>Nr. 2</b> (1 Stimme)" in results[0]
    # the sweep's stop and result were outbox rows, stored with the claim of the end (SPEC §12)
    swept = rows(
        bot_process.database_url,
        "select kind, outcome from outbox_send where update_id is null order by id",
    )
    assert swept == [("action", "sent"), ("message", "sent")]
    team.say(anna, "/plan stimmen")
    plan = team.last_text()
    assert "🗳 2 Stimmen" in plan
    assert plan.index("Nr. 3</b>") < plan.index("Nr. 2</b>") < plan.index("Nr. 1</b>")
    assert world.refusals() == []
    assert world.violations == []
    assert bot_process.tracebacks_while_running() == []


def _moment(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_vote_lasts_48_hours_and_a_stop_telegram_cannot_take_now_is_tried_again(
    opened_board: OpenedBoard, world: World, bot: BotThread
) -> None:
    """`/vote` without hours ends 48 hours after it started (the stored end); a `stopPoll`
    refused for the moment (a flood limit past the pacing layer's retries) is tried again by
    a later sweep, so the poll does not stay open in the chat."""
    scene = opened_board
    group, anna, ben, team = scene.group, scene.anna, scene.ben, scene.team
    _measures(team, anna, [1, 5])
    team.say(anna, "/vote")
    (poll,) = _polls(world, team, 1)
    [(started, ends)] = rows(bot.database_url, "select started_at, ends_at from vote")
    assert abs((_moment(ends) - _moment(started)) - timedelta(hours=48)) < timedelta(seconds=5)
    world.answer_poll(ben, poll, [1])
    wait_until(lambda: _ballots(bot.database_url) == 1, what="Ben's pick")

    # six 429s: the pacing layer retries five times, then the stop is left for a sweep
    world.inject(Fault("stopPoll", "429", count=6, retry_after=1))
    before = len(world.bot_texts(group))
    team.say(anna, "/vote stop")
    wait_until(lambda: any("Ergebnis" in t for t in team.texts_since(before)), what="result")
    wait_until(lambda: poll.is_closed, timeout=40, what="the poll stopped by a later sweep")
    time.sleep(2.5)  # more sweeps: stopped once, not again
    assert poll.stops == 1
    assert len(world.calls("stopPoll")) == 7
    assert rows(bot.database_url, "select count(*) from vote_poll where stopped")[0][0] == 1
    assert world.refusals() == []
    assert world.violations == []


def test_a_poll_telegram_closed_already_counts_as_stopped(
    opened_board: OpenedBoard, world: World, bot: BotThread
) -> None:
    """A stop Telegram refuses for good (400: the poll has already been closed) is not tried
    again, and the vote's result is posted as usual."""
    scene = opened_board
    group, anna, team = scene.group, scene.anna, scene.team
    _measures(team, anna, [1, 5])
    team.say(anna, "/vote 2")
    (poll,) = _polls(world, team, 1)
    with world.lock:
        poll.is_closed = True  # closed in Telegram already
    before = len(world.bot_texts(group))
    _end_vote_in_the_past(bot.database_url)
    wait_until(lambda: any("Ergebnis" in t for t in team.texts_since(before)), what="result")
    time.sleep(2.5)  # more sweeps: the refused stop is not tried again
    assert len(world.calls("stopPoll")) == 1
    assert [r.description for r in world.refusals()] == [
        "Bad Request: poll has already been closed"
    ]
    assert rows(bot.database_url, "select count(*) from vote_poll where stopped")[0][0] == 1


def test_a_group_that_forbids_polls_ends_the_vote_at_once(
    opened_board: OpenedBoard, world: World, bot: BotThread
) -> None:
    """`sendPoll` refused for good (400): the vote ends at once with a sentence, and `/vote`
    works again instead of waiting 48 hours; the plan keeps no empty result."""
    scene = opened_board
    group, anna, team = scene.group, scene.anna, scene.team
    _measures(team, anna, [1, 5])
    world.inject(Fault("sendPoll", "400"))
    before = len(world.bot_texts(group))
    team.say(anna, "/vote")
    refused = wait_until(
        lambda: [t for t in team.texts_since(before) if "nicht senden" in t],
        what="the sentence about the refused poll",
    )
    assert "Die Abstimmung ist beendet" in refused[0]
    assert world.polls_in(group) == []
    assert rows(bot.database_url, "select count(*) from vote")[0][0] == 0
    team.say(anna, "/plan")
    assert "🗳" not in team.last_text()  # no vote to show
    team.say(anna, "/vote")
    (poll,) = _polls(world, team, 1)
    assert not poll.is_closed
    assert world.refusals() == []
    assert world.violations == []
