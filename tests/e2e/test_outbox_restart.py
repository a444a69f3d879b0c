"""The outbox across a crash (SPEC §12, issue 19): sends held behind the group's limit when the
process is killed go out once after the restart, at once on SQLite (no waiting for the dead
process's lease), in their order, and before anything the chat's new updates send."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.model import Chat
from tests.support.dbtools import rows
from tests.support.harness import BotProcess, wait_until
from tests.support.scenario import Team, plain

pytestmark = pytest.mark.e2e

WELCOME = "Hallo!"


def _cards(world: World, chat: Chat) -> list[tuple[int, int]]:
    """(position among the bot's messages, the card's point) of every card posted."""
    return [
        (index, int(plain(m.text or "").split(".")[0]))
        for index, m in enumerate(world.bot_messages(chat))
        if (m.text or "").startswith("<b>") and plain(m.text or "").split(".")[0].isdigit()
    ]


def test_after_kill_9_held_posts_go_out_at_once_in_order_and_before_a_new_answer(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """Cards held back by the bot's pacing (4 posts a minute) when the process is killed: the
    restarted process (the default lease of 30 s) sends them at once, each once, in the
    order decided, and a `/status` sent right after the restart is answered after them."""
    anna = world.person(2401, "Anna")
    team = Team(world, world.group("Team", owner=anna, supergroup=True))
    slow = BotProcess(emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE="4")
    slow.start()
    team.say(anna, "/newboard Absturz")
    for point in range(1, 9):
        world.send(team.chat, anna, f"/point {point}")
    wait_until(lambda: len(_cards(world, team.chat)) >= 3, what="the first cards")
    wait_until(
        lambda: (
            rows(slow.database_url, "select count(*) from outbox_send where sent_at is null")
            >= [(8 - len(_cards(world, team.chat)),)]
        ),
        what="the other cards decided",
    )
    assert slow.stop(signal.SIGKILL) == -signal.SIGKILL
    assert len(_cards(world, team.chat)) < 8
    fast = BotProcess(emulator, sqlite_url, tmp_path)  # the usual limits, the default lease
    started = time.monotonic()
    try:
        fast.start()
        status = world.send(team.chat, anna, "/status")
        wait_until(
            lambda: any(m.reply_to == status.message_id for m in world.bot_messages(team.chat)),
            timeout=20,
            what="the status",
        )
        wait_until(lambda: len(_cards(world, team.chat)) >= 8, timeout=5, what="every card")
        assert time.monotonic() - started < 25, "the held cards waited for the dead lease"
        time.sleep(1.5)  # nothing more comes
        unsent = rows(fast.database_url, "select count(*) from outbox_send where sent_at is null")
        assert unsent == [(0,)]
    finally:
        fast.stop()
    cards = _cards(world, team.chat)
    assert [point for _, point in cards] == list(range(1, 9)), "a card twice or out of order"
    posted = world.bot_messages(team.chat)
    answer = next(i for i, m in enumerate(posted) if m.reply_to == status.message_id)
    assert max(index for index, _ in cards) < answer, "the new answer overtook the held cards"
    assert fast.tracebacks_while_running() == []


def test_a_group_s_welcome_held_behind_its_limit_survives_kill_9(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """The welcome is an outbox row stored with the claim that it is posted once: a process
    killed while it waits behind the group's limit leaves it, and the next start posts it —
    once."""
    anna = world.person(2411, "Anna")
    team = Team(world, world.group("Team", owner=anna, supergroup=True))
    slow = BotProcess(emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE="4")
    slow.start()
    team.say(anna, "/newboard Willkommen")
    for point in range(1, 5):
        world.send(team.chat, anna, f"/point {point}")
    world.remove_bot(team.chat, anna)
    world.add_bot(team.chat, anna)  # the first add: greeted once, behind the cards
    wait_until(
        lambda: rows(slow.database_url, "select count(*) from welcome_sent") == [(1,)],
        what="the welcome claimed",
    )
    time.sleep(0.5)  # the welcome is decided, committed, and waits for its slot
    assert not any(WELCOME in t for t in world.bot_texts(team.chat))
    assert slow.stop(signal.SIGKILL) == -signal.SIGKILL
    fast = BotProcess(emulator, sqlite_url, tmp_path)
    try:
        fast.start()
        wait_until(
            lambda: any(WELCOME in t for t in world.bot_texts(team.chat)), what="the welcome"
        )
        time.sleep(1.5)  # nothing more comes
    finally:
        fast.stop()
    assert sum(WELCOME in t for t in world.bot_texts(team.chat)) == 1
    assert [point for _, point in _cards(world, team.chat)] == [1, 2, 3, 4]
    assert fast.tracebacks_while_running() == []
