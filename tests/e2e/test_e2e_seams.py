"""End-to-end at Telegram's seams (SPEC §12): updates the library cannot parse, handlers that
keep failing — set aside, and the chat goes on."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.model import StoredMessage
from tests.support.cards import card_numbers, cards
from tests.support.dbtools import rows
from tests.support.harness import BotProcess, wait_until
from tests.support.scenario import Team, plain

pytestmark = pytest.mark.e2e

WENT_WRONG = "etwas schiefgegangen"
# a killed process's claims on its unsent rows hold this long (30 s by default)
SHORT_LEASE = {"OUTBOX_LEASE_SECONDS": "3"}


def _poison_reply(world: World, team: Team, person: object, asked: StoredMessage) -> int:
    """A reply whose `reply_to_message` carries a ForceReply markup: Telegram never sends that
    shape, and python-telegram-bot cannot parse it (KeyError: 'inline_keyboard')."""
    with world.lock:
        reply = world.send(team.chat, person, "kaputt", reply_to=asked.message_id)  # type: ignore[arg-type]
        update = world.updates[-1]
        assert update["message"]["message_id"] == reply.message_id
        update["message"]["reply_to_message"]["reply_markup"] = {"force_reply": True}
        return int(update["update_id"])


def test_an_unparsable_update_in_a_burst_is_set_aside_and_its_chat_goes_on(
    world: World, bot_process: BotProcess
) -> None:
    people = [world.person(2000 + i, f"P{i}") for i in range(10)]
    teams = [
        Team(world, world.group(f"G{i}", owner=p, supergroup=True)) for i, p in enumerate(people)
    ]
    bot_process.start()
    for index, (team, person) in enumerate(zip(teams, people, strict=True)):
        team.say(person, f"/newboard Brett {index}")
    asked = {id(team): team.world.bot_messages(team.chat)[-1] for team in teams}
    # a burst of 200 updates for 10 chats, round robin; the poison is chat 3's tenth
    poison_id = 0
    sent: list[tuple[Team, StoredMessage]] = []
    for round_ in range(20):
        for index, (team, person) in enumerate(zip(teams, people, strict=True)):
            if index == 3 and round_ == 9:
                poison_id = _poison_reply(world, team, person, asked[id(team)])
                continue
            message = world.send(team.chat, person, f"/ist {round_ + 1} Eintrag {round_}")
            sent.append((team, message))
    assert len(sent) == 199
    wait_until(lambda: all(m.reactions == ["👍"] for _, m in sent), timeout=90, what="199 entries")
    assert rows(bot_process.database_url, "select count(*) from entry") == [(199,)]
    dead = rows(bot_process.database_url, "select update_id, chat_id, error from dead_letter")
    assert dead == [(poison_id, teams[3].chat.id, "KeyError")]
    # its chat went on: the entries after it in chat 3 were kept in order
    later = [m for team, m in sent if team is teams[3]][9:]
    assert len(later) == 10
    assert all(m.reactions == ["👍"] for m in later)
    # the person heard once that something went wrong; in other chats nothing was said
    wait_until(
        lambda: sum(WENT_WRONG in plain(t) for t in world.bot_texts(teams[3].chat)) == 1,
        what="the one notice",
    )
    for team in teams[:3] + teams[4:]:
        assert not any(WENT_WRONG in plain(t) for t in world.bot_texts(team.chat))
    # the log names the update and the error's class, not the person's text
    assert "set aside" in bot_process.log()
    assert "kaputt" not in bot_process.log()
    # no loop after a restart: nothing is fetched or tried again, the chat answers
    bot_process.restart()
    teams[3].entry(people[3], "/soll 1 nach dem Neustart")
    assert sum(WENT_WRONG in plain(t) for t in world.bot_texts(teams[3].chat)) == 1
    assert rows(bot_process.database_url, "select count(*) from dead_letter") == [(1,)]
    assert rows(bot_process.database_url, "select count(*) from entry") == [(200,)]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_posts_held_behind_the_group_limit_appear_once_after_a_restart(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path, stop: int
) -> None:
    """Cards decided but held back by the bot's pacing (here 4 posts a minute in the group)
    when the process stops are sent after the restart — each exactly once."""
    anna = world.person(2101, "Anna")
    team = Team(world, world.group("Team", owner=anna, supergroup=True))
    slow = BotProcess(
        emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE="4", **SHORT_LEASE
    )
    slow.start()
    team.say(anna, "/newboard Flut")
    for point in range(1, 9):
        world.send(team.chat, anna, f"/point {point}")

    wait_until(lambda: len(card_numbers(world, team.chat)) >= 3, what="the first cards")
    time.sleep(1.0)  # the next card is decided and committed, and waits for its slot
    held = len(card_numbers(world, team.chat))
    assert held < 8
    assert slow.stop(stop) in (0, -signal.SIGKILL, -signal.SIGTERM)
    assert len(card_numbers(world, team.chat)) < 8
    fast = BotProcess(emulator, sqlite_url, tmp_path, **SHORT_LEASE)  # the usual limits again
    try:
        fast.start()
        wait_until(
            lambda: sorted(card_numbers(world, team.chat)) == list(range(1, 9)),
            what="every card once",
        )
        time.sleep(1.5)  # nothing more comes
        assert sorted(card_numbers(world, team.chat)) == list(range(1, 9))
        unsent = rows(fast.database_url, "select count(*) from outbox_send where sent_at is null")
        assert unsent == [(0,)]
    finally:
        fast.stop()
    assert fast.tracebacks_while_running() == []


def test_one_member_does_not_stall_the_group(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """Telegram takes 20 posts a minute in a group (enforced here). While a moderator's cards
    wait for their slots, another member's entry is acknowledged within seconds, and a person
    who repeats /status while its answer waits gets only the newest answer."""
    world.flood.enforced = True
    anna = world.person(2201, "Anna")
    ben = world.person(2202, "Ben")
    team = Team(world, world.group("Team", owner=anna, supergroup=True))
    bot = BotProcess(emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE="20")
    try:
        bot.start()
        team.say(anna, "/newboard Andrang")
        for point in range(1, 21):  # 20 cards: past the minute's allowance with the rest
            world.send(team.chat, anna, f"/point {point}")
        wait_until(lambda: len(world.bot_messages(team.chat)) >= 19, what="a minute's posts")
        statuses = [world.send(team.chat, anna, "/status") for _ in range(5)]
        started = time.monotonic()
        entry = world.send(team.chat, ben, "/ist 1 mitten im Andrang")
        wait_until(lambda: entry.reactions == ["👍"], timeout=10, what="Ben's acknowledgement")
        assert time.monotonic() - started < 5
        assert len(world.bot_messages(team.chat)) < 22  # the cards still wait for their slots
        # the newest /status is answered, once; the ones it replaced are not
        answers = lambda: [  # noqa: E731
            m
            for m in world.bot_messages(team.chat)
            if m.reply_to in {s.message_id for s in statuses}
        ]
        wait_until(
            lambda: any(m.reply_to == statuses[-1].message_id for m in answers()),
            timeout=90,
            what="the newest status",
        )
        assert len(answers()) < len(statuses)
        assert [m.reply_to for m in answers()][-1] == statuses[-1].message_id
        assert world.refusals() == []  # never past Telegram's limit
    finally:
        bot.stop()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_a_board_and_its_files_held_behind_the_group_limit_appear_once_after_a_restart(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path, stop: int
) -> None:
    """Not only cards: `/board` (texts and image) and `/export` (files), decided while the
    group's posts wait for their slot, are stored as what to render and go out after the
    restart — each message, image and file exactly once."""
    anna = world.person(2111, "Anna")
    team = Team(world, world.group("Team", owner=anna, supergroup=True))
    slow = BotProcess(
        emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE="3", **SHORT_LEASE
    )
    slow.start()
    team.say(anna, "/newboard Flut")
    before = len(world.bot_messages(team.chat))
    for command in (
        "/ist 1 Wir haben einen Plan",
        "/point 1",
        "/point 2",
        "/point 3",
        "/board",
        "/export",
    ):
        world.send(team.chat, anna, command)

    def posted() -> list[StoredMessage]:
        return world.bot_messages(team.chat)[before:]

    def of_kind(kind: str) -> list[StoredMessage]:
        return [m for m in posted() if m.kind == kind]

    wait_until(lambda: len(posted()) >= 1, what="the first card")
    time.sleep(1.5)  # the rest is decided and committed, and waits for its slots
    assert of_kind("photo") == []
    assert of_kind("document") == []
    assert slow.stop(stop) in (0, -signal.SIGKILL, -signal.SIGTERM)
    fast = BotProcess(emulator, sqlite_url, tmp_path, **SHORT_LEASE)  # the usual limits again
    try:
        fast.start()
        wait_until(
            lambda: len(of_kind("photo")) >= 1 and len(of_kind("document")) >= 3,
            what="the board's image and the export's files",
        )
        time.sleep(1.5)  # nothing more comes
        unsent = rows(fast.database_url, "select count(*) from outbox_send where sent_at is null")
        assert unsent == [(0,)]
    finally:
        fast.stop()
    assert len(of_kind("photo")) == 1
    names = [m.file_name for m in of_kind("document")]
    assert len(names) == len(set(names)) >= 3
    texts = [m.text for m in of_kind("text")]
    assert len(texts) == len(set(texts)), "a message posted twice"
    assert fast.tracebacks_while_running() == []


def test_after_a_restart_a_chat_s_older_posts_go_before_its_new_ones(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """Cards left in the outbox at a stop are queued in their chat's sender before the first
    update after the restart is handled: a `/status` waiting at the start is answered after
    every one of them."""
    anna = world.person(2121, "Anna")
    team = Team(world, world.group("Team", owner=anna, supergroup=True))
    slow = BotProcess(emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE="2")
    slow.start()
    team.say(anna, "/newboard Reihe")
    for point in range(1, 16):
        world.send(team.chat, anna, f"/point {point}")
    wait_until(
        lambda: (
            rows(slow.database_url, "select count(*) from outbox_send where sent_at is null")
            >= [(14,)]
        ),
        what="the cards decided",
    )
    assert slow.stop(signal.SIGTERM) == 0
    status = world.send(team.chat, anna, "/status")  # waits for the next start
    fast = BotProcess(emulator, sqlite_url, tmp_path)
    try:
        fast.start()
        wait_until(
            lambda: any(m.reply_to == status.message_id for m in world.bot_messages(team.chat)),
            what="the status",
        )
    finally:
        fast.stop()
    posted = world.bot_messages(team.chat)
    answer = next(i for i, m in enumerate(posted) if m.reply_to == status.message_id)
    card_ids = {c.message_id for c in cards(world, team.chat)}
    positions = [i for i, m in enumerate(posted) if m.message_id in card_ids]
    assert len(positions) == 15
    assert max(positions) < answer, "the new answer went out before the chat's older posts"


def test_plan_and_review_repeated_while_waiting_go_out_once(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """`/plan` and `/review` only show something, like `/status`: repeated by one person while
    the answer still waits behind the group's limit, only the newest of each goes out."""
    world.flood.enforced = True
    anna = world.person(2301, "Anna")
    team = Team(world, world.group("Team", owner=anna, supergroup=True))
    bot = BotProcess(emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE="20")
    try:
        bot.start()
        team.say(anna, "/newboard Andrang")
        for point in range(1, 21):  # 20 cards: past the minute's allowance with the rest
            world.send(team.chat, anna, f"/point {point}")
        wait_until(lambda: len(world.bot_messages(team.chat)) >= 19, what="a minute's posts")
        plans = [world.send(team.chat, anna, "/plan") for _ in range(4)]
        for _ in range(4):
            world.send(team.chat, anna, "/review")
        plan_ids = {p.message_id for p in plans}
        plan_answers = lambda: [  # noqa: E731
            m for m in world.bot_messages(team.chat) if m.reply_to in plan_ids
        ]
        reviews = lambda: [  # noqa: E731
            m for m in world.bot_messages(team.chat) if "Abschlussprüfung" in (m.text or "")
        ]
        wait_until(lambda: plan_answers() and reviews(), timeout=120, what="plan and review")
        time.sleep(4)  # nothing else follows
        assert [m.reply_to for m in plan_answers()] == [plans[-1].message_id]
        assert len(reviews()) == 1
        assert world.refusals() == []
    finally:
        bot.stop()
