"""Telegram's flood limits, as the emulator enforces them, against the bot's application polling
in a thread (BotThread)."""

from __future__ import annotations

import time

import pytest

from bot.playground.emulator import Fault, World
from bot.playground.emulator.model import ApiError
from tests.support.cards import cards_of
from tests.support.harness import BotThread, wait_until
from tests.support.scenario import Team

GROUP_WINDOW = 3.0  # the emulator's minute, shortened twentyfold
GROUP_PER_MINUTE = str(int(20 * 60 / GROUP_WINDOW))  # the bot's limit on the same scale


def _post(world: World, chat_id: int) -> None:
    world.handle("sendMessage", {"chat_id": chat_id, "text": "x"}, {})


def test_the_emulator_answers_429_beyond_20_posts_per_group_window(world: World) -> None:
    anna = world.person(2001, "Anna")
    group = world.group("Flut", owner=anna, supergroup=True)
    world.flood.enforced = True
    world.flood.group_window = GROUP_WINDOW
    for _ in range(20):
        _post(world, group.id)
    with pytest.raises(ApiError) as refused:
        _post(world, group.id)
    assert refused.value.code == 429
    assert refused.value.parameters == {"retry_after": 3}
    world.handle("setMessageReaction", {"chat_id": group.id, "message_id": 1}, {})  # not a post
    assert len(world.refusals()) == 1


def test_a_429_fault_for_one_chat_floods_only_that_chat(world: World) -> None:
    anna = world.person(2011, "Anna")
    flooded = world.group("A", owner=anna, supergroup=True)
    other = world.group("B", owner=anna, supergroup=True)
    world.inject(Fault("sendMessage", "429", chat_id=flooded.id, retry_after=5))
    _post(world, other.id)
    for _ in range(2):  # the fault, then the flood it leaves behind
        with pytest.raises(ApiError) as refused:
            _post(world, flooded.id)
        assert refused.value.code == 429
    assert refused.value.parameters == {"retry_after": 5}
    _post(world, other.id)
    assert [r.status for r in world.requests] == [200, 599, 429, 200]


@pytest.mark.e2e
def test_a_429_for_group_a_delays_neither_group_b_nor_its_reactions(
    world: World, bot: BotThread
) -> None:
    anna = world.person(2101, "Anna")
    ben = world.person(2102, "Ben")
    a = Team(world, world.group("A", owner=anna, supergroup=True))
    b = Team(world, world.group("B", owner=ben, supergroup=True))
    bot.start()
    a.say(anna, "/newboard Alpha")
    b.say(ben, "/newboard Beta")

    world.inject(Fault("sendMessage", "429", chat_id=a.chat.id, retry_after=5))
    flooded_at = time.monotonic()
    for number in (1, 2):
        world.send(a.chat, anna, f"/point {number}")
    b_delays: list[float] = []
    while time.monotonic() - flooded_at < 4:  # B works on while A waits
        started = time.monotonic()
        b.open_card(ben, len(b_delays) % 20 + 1)
        b.entry(ben, f"/ist {len(b_delays) % 20 + 1} während A wartet")
        b_delays.append(time.monotonic() - started)
    wait_until(lambda: a.has_card(1) and a.has_card(2), timeout=20, what="A's cards")

    posts_to_a = [t for t, chat in world.flood.posts if chat == a.chat.id]
    first_after_flood = min(t for t in posts_to_a if t > flooded_at)
    print(
        f"\nB: {len(b_delays)} cards and entries during A's pause, slowest "
        f"{max(b_delays):.2f}s; A's first post {first_after_flood - flooded_at:.2f}s after its 429"
    )
    assert len(b_delays) >= 3
    assert max(b_delays) < 1.5  # a card and an entry's reaction, not held up by A
    assert first_after_flood - flooded_at >= 4.9
    for number in (1, 2):  # each of A's posts arrived once
        assert len(cards_of(world, a.chat, number)) == 1
    injected = [r for r in world.requests if r.description == "injected 429"]
    assert len(injected) == 1
    assert world.refusals() == []  # and nothing was sent to A while it was told to wait


@pytest.mark.e2e
def test_a_burst_of_25_posts_to_one_group_gets_no_429(world: World, bot: BotThread) -> None:
    anna = world.person(2201, "Anna")
    team = Team(world, world.group("Burst", owner=anna, supergroup=True))
    bot.env["TELEGRAM_GROUP_MESSAGES_PER_MINUTE"] = GROUP_PER_MINUTE
    bot.start()
    team.say(anna, "/newboard Burst")
    time.sleep(GROUP_WINDOW)  # /newboard's posts leave the window
    world.flood.enforced = True
    world.flood.group_window = GROUP_WINDOW
    before = team.bot_count()
    started = time.monotonic()
    for i in range(25):
        world.send(team.chat, anna, f"/point {i % 20 + 1}")
    wait_until(lambda: team.bot_count() >= before + 25, timeout=30, what="25 answers")
    took = time.monotonic() - started

    most = world.flood.most_per_window(team.chat.id, GROUP_WINDOW)
    print(f"\n25 posts in {took:.1f}s; at most {most} in any {GROUP_WINDOW:.0f}s window (limit 20)")
    assert world.refusals() == []
    assert most == 20  # the whole burst allowance used, not more
    assert took >= GROUP_WINDOW  # the last five waited for the window
