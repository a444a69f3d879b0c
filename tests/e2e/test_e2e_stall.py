"""End-to-end: one member's burst must not stall the group (issue 25), through the real process
with the emulator enforcing Telegram's 20 posts a minute per group (the minute shortened).

Every assertion is about the order of what reached the emulator, never about wall-clock time.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.handlers.plan import PAGE_ACTION
from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.world import Chat, Request, StoredMessage
from tests.support.dbtools import rows
from tests.support.harness import BotProcess, wait_until
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e

WINDOW = 12.0  # the emulator's minute, shortened fivefold
PER_MINUTE = str(int(20 * 60 / WINDOW))  # the bot's limit on the same scale
BURST = 110
ENTRY_AT = 55  # B writes after this many of A's updates
REVIEW = "Abschlussprüfung"


def _posts_to(requests: list[Request], chat: Chat) -> list[int]:
    """Indexes of the posts Telegram took for the chat (messages, photos, documents)."""
    return [
        index
        for index, request in enumerate(requests)
        if request.status == 200
        and request.method.lower().startswith(("send", "copy", "forward"))
        and request.method.lower() != "sendchataction"
        and int(request.params.get("chat_id", 0)) == chat.id
    ]


def _reaction_on(requests: list[Request], message: StoredMessage) -> int:
    return next(
        index
        for index, request in enumerate(requests)
        if request.status == 200
        and request.method.lower() == "setmessagereaction"
        and int(request.params.get("message_id", 0)) == message.message_id
        and int(request.params.get("chat_id", 0)) == message.chat_id
    )


def _button(message: StoredMessage, action: str) -> str:
    """The callback data of the message's first button for `action`."""
    for found in buttons_of(message.reply_markup):
        data = str(found.get("callback_data") or "")
        if data.split(":")[1:2] == [action]:
            return data
    raise AssertionError(f"no button {action!r}: {buttons_of(message.reply_markup)}")


def _edits_of(requests: list[Request], message: StoredMessage) -> list[Request]:
    return [
        r
        for r in requests
        if r.method.lower().startswith("edit")
        and int(r.params.get("message_id", 0)) == message.message_id
    ]


def test_a_burst_of_110_updates_from_one_member_does_not_stall_the_group(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """Member A sends 110 updates in a burst — /plan, /status, /review, /help and taps on the
    card's example and the plan's page button — while the group's posts wait for their slot;
    member B's entry in the middle is acknowledged before A's answers go out, each of A's
    answers goes out once (the newest), B loses nothing, and the group never gets more than
    its 20 posts per minute."""
    world.flood.enforced = True
    world.flood.group_window = WINDOW
    anna = world.person(2501, "Anna")  # the moderator who set the board up
    arne = world.person(2502, "Arne")  # member A, the burst
    berta = world.person(2503, "Berta")  # member B, one entry
    team = Team(world, world.group("Andrang", owner=anna, supergroup=True))
    bot = BotProcess(emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE=PER_MINUTE)
    try:
        bot.start()
        team.say(anna, "/newboard Andrang")
        # a plan of several pages (each measure long), the card of point 1 with its example
        for number in range(1, 13):
            team.entry(anna, f"/soll {number} Maßnahme {number:02d} " + "lang " * 150)
        card = team.open_card(anna, 1)
        plan_asked = team.say(arne, "/plan")
        plan = next(m for m in world.bot_messages(team.chat) if m.reply_to == plan_asked.message_id)
        example = _button(card, "ex")
        next_page = _button(plan, PAGE_ACTION)  # page 1 has only ▶
        time.sleep(WINDOW * 1.1)  # the set-up's posts leave the group's window
        helps = [world.send(team.chat, anna, "/help") for _ in range(20)]  # the window, full
        wait_until(
            lambda: (
                len(
                    {m.reply_to for m in world.bot_messages(team.chat)}
                    & {h.message_id for h in helps}
                )
                == 20
            ),
            what="a minute's posts",
        )

        with world.lock:
            start = len(world.requests)
        sent: dict[str, list[StoredMessage]] = {"/plan": [], "/status": [], "/help": []}

        def a_sends(index: int) -> None:
            kind = ["/plan", "/status", "/review", "/help", "example", "page"][index % 6]
            if kind == "example":
                world.press(team.chat, arne, card, example)
            elif kind == "page":
                world.press(team.chat, arne, plan, next_page)
            else:
                sent.setdefault(kind, []).append(world.send(team.chat, arne, kind))

        for index in range(ENTRY_AT):
            a_sends(index)
        entry = world.send(team.chat, berta, "/ist 3 Berta schreibt mitten im Andrang")
        for index in range(ENTRY_AT, BURST):
            a_sends(index)

        def answers(kind: str) -> list[StoredMessage]:
            asked = {m.message_id for m in sent[kind]}
            return [m for m in world.bot_messages(team.chat) if m.reply_to in asked]

        def reviews() -> list[StoredMessage]:
            return [m for m in world.bot_messages(team.chat)[-40:] if REVIEW in (m.text or "")]

        def everything_answered() -> bool:
            unsent = rows(
                bot.database_url, "select count(*) from outbox_send where sent_at is null"
            )
            return (
                all(answers(kind) for kind in ("/plan", "/status", "/help"))
                and bool(reviews())
                and bool(_edits_of(world.requests, plan))
                and unsent == [(0,)]
            )

        wait_until(lambda: entry.reactions == ["👍"], timeout=4 * WINDOW, what="B's 👍")
        wait_until(everything_answered, timeout=6 * WINDOW, what="A's answers")
        time.sleep(2)  # nothing else follows
        with world.lock:
            requests = list(world.requests)

        # B's entry was acknowledged before more than two of the burst's posts went out
        acknowledged = _reaction_on(requests, entry)
        burst_posts = [i for i in _posts_to(requests, team.chat) if i >= start]
        assert len([i for i in burst_posts if i < acknowledged]) <= 2
        # nothing B wrote was lost
        stored = rows(
            bot.database_url,
            "select kind, text from entry where message_id = ?",
            entry.message_id,
        )
        assert stored == [("ist", "Berta schreibt mitten im Andrang")]
        # each of A's read-only answers went out once, the newest one
        for kind in ("/plan", "/status", "/help"):
            assert [m.reply_to for m in answers(kind)] == [sent[kind][-1].message_id], kind
        review_posts = [m for m in world.bot_messages(team.chat) if REVIEW in (m.text or "")]
        assert len(review_posts) == 1
        example_replies = [
            m for m in world.bot_messages(team.chat) if m.reply_to == card.message_id
        ]
        assert len(example_replies) == 1
        # the plan's page: the newest edit only, not one per tap
        assert len(_edits_of(requests, plan)) == 1
        assert plan.edits == 1
        # never past Telegram's limit
        assert world.flood.most_per_window(team.chat.id, WINDOW) <= 20
        assert world.refusals() == []
        assert len(burst_posts) < 20
    finally:
        bot.stop()
    assert bot.tracebacks_while_running() == []


def test_boards_board_and_page_taps_repeated_while_waiting_go_out_once_each(
    world: World, emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """While the group's posts wait: `/boards` repeated goes out once (the newest); `/board`
    repeated goes out once, and its cool-down notes once (the newest, after the board it points
    to); page taps on two plan messages each edit their own message once."""
    world.flood.enforced = True
    world.flood.group_window = WINDOW
    anna = world.person(2601, "Anna")
    arne = world.person(2602, "Arne")
    team = Team(world, world.group("Wartend", owner=anna, supergroup=True))
    bot = BotProcess(emulator, sqlite_url, tmp_path, TELEGRAM_GROUP_MESSAGES_PER_MINUTE=PER_MINUTE)
    try:
        bot.start()
        team.say(anna, "/newboard Wartend")
        for number in range(1, 13):
            team.entry(anna, f"/soll {number} Maßnahme {number:02d} " + "lang " * 150)
        plans = []
        for person in (anna, arne):  # two plan messages (different people: both answered)
            asked = team.say(person, "/plan")
            plans.append(
                next(m for m in world.bot_messages(team.chat) if m.reply_to == asked.message_id)
            )
        time.sleep(WINDOW * 1.1)  # the set-up's posts leave the group's window
        helps = [world.send(team.chat, anna, "/help") for _ in range(20)]  # the window, full
        wait_until(
            lambda: (
                len(
                    {m.reply_to for m in world.bot_messages(team.chat)}
                    & {h.message_id for h in helps}
                )
                == 20
            ),
            what="a minute's posts",
        )
        before = len(world.bot_messages(team.chat))
        boards = [world.send(team.chat, arne, "/boards") for _ in range(3)]
        board_asks = [world.send(team.chat, arne, "/board") for _ in range(4)]
        for plan in plans:
            data = _button(plan, PAGE_ACTION)
            for _ in range(3):
                world.press(team.chat, arne, plan, data)

        def posted() -> list[StoredMessage]:
            return world.bot_messages(team.chat)[before:]

        def replies_to(asked: list[StoredMessage]) -> list[StoredMessage]:
            ids = {m.message_id for m in asked}
            return [m for m in posted() if m.reply_to in ids]

        def done() -> bool:
            unsent = rows(
                bot.database_url, "select count(*) from outbox_send where sent_at is null"
            )
            return (
                bool(replies_to(board_asks))
                and any(m.kind == "photo" for m in posted())
                and all(plan.edits for plan in plans)
                and unsent == [(0,)]
            )

        wait_until(done, timeout=6 * WINDOW, what="the answers")
        time.sleep(2)  # nothing else follows
        listings = [m for m in posted() if "Die Boards hier" in (m.text or "")]
        assert len(listings) == 1
        assert listings[0].reply_to in (None, boards[-1].message_id)
        assert len([m for m in posted() if m.kind == "photo"]) == 1
        notes = replies_to(board_asks)
        assert [m.reply_to for m in notes] == [board_asks[-1].message_id]
        assert "eben erst geschickt" in (notes[0].text or "")
        photo = next(i for i, m in enumerate(posted()) if m.kind == "photo")
        assert photo < posted().index(notes[0])  # the note points to a board already there
        assert [plan.edits for plan in plans] == [1, 1]
        assert world.flood.most_per_window(team.chat.id, WINDOW) <= 20
        assert world.refusals() == []
    finally:
        bot.stop()
    assert bot.tracebacks_while_running() == []
