"""End-to-end: migrations, removal, forum topics, faults and restarts — nothing lost."""

from __future__ import annotations

import signal
import time

import pytest

from bot.playground.emulator import BotApiEmulator, Fault, World
from tests.support.cards import cards_of
from tests.support.dbtools import live_entries, make_reminder_due, rows
from tests.support.harness import BotThread, wait_until
from tests.support.opened import OpenedBoard
from tests.support.ports import free_port
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e


def test_group_upgraded_to_supergroup_keeps_everything(
    opened_board: OpenedBoard, world: World, bot: BotThread
) -> None:
    scene = opened_board
    group, anna, ben, team = scene.group, scene.anna, scene.ben, scene.team
    card = team.open_card(anna, 1)
    team.entry(ben, "vor dem Umzug", reply_to=card.message_id)
    wait_until(lambda: card.edits > 0, what="the card's count shown")  # then the upgrade
    old_id = group.id
    world.migrate(group)
    team.refresh()
    assert team.chat.id != old_id
    wait_until(
        lambda: rows(bot.database_url, "select chat_id from board") == [(team.chat.id,)],
        what="board moved",
    )
    team.entry(anna, "/soll 1 im Supergroup")
    team.say(anna, "/next")  # the board's creator is still a moderator
    assert team.has_card(2)
    # each entry keeps the chat it was written in
    assert [r[3] for r in live_entries(bot.database_url)] == [old_id, team.chat.id]
    # the move was confirmed by asking Telegram about the old chat: "upgraded", as expected
    refused = world.refusals()
    assert {r.method for r in refused} <= {"getChat"}
    assert all("upgraded to a supergroup" in r.description for r in refused)


def test_an_upgrade_with_colliding_message_ids_loses_nothing(
    opened_board: OpenedBoard, world: World, bot: BotThread
) -> None:
    """The new supergroup's message ids start again at 1: message 7 of the new chat is not
    message 7 of the old one — every entry is kept and every reply finds its own card."""
    scene = opened_board
    group, anna, ben, team = scene.group, scene.anna, scene.ben, scene.team
    old_cards = {}
    for number in (1, 2, 3):
        card = team.open_card(anna, number)
        old_cards[number] = card.message_id
        team.entry(ben, f"alt {number}", reply_to=card.message_id)
    team.say(anna, "/board")
    wait_until(lambda: any(m.kind == "photo" for m in world.bot_messages(team.chat)), what="board")
    old_id = group.id
    old_messages = set(world.chats[old_id].messages)
    world.migrate(group)
    team.refresh()
    wait_until(
        lambda: rows(bot.database_url, "select chat_id from board") == [(team.chat.id,)],
        what="board moved",
    )
    typed = team.entry(anna, "/ist 6 nach dem Umzug")
    new_cards = {}
    for number in (4, 5, 6):
        card = team.open_card(anna, number)
        new_cards[number] = card.message_id
        team.entry(ben, f"neu {number}", reply_to=card.message_id)
    new_messages = set(world.chats[team.chat.id].messages)
    assert typed.message_id in old_messages  # the ids did collide
    assert set(new_cards.values()) & old_messages
    entries = live_entries(bot.database_url)
    assert sorted((r[0], r[2]) for r in entries) == [
        (1, "alt 1"),
        (2, "alt 2"),
        (3, "alt 3"),
        (4, "neu 4"),
        (5, "neu 5"),
        (6, "nach dem Umzug"),
        (6, "neu 6"),
    ]
    assert {(r[3], r[4]) for r in entries if str(r[2]).startswith("alt")} <= {
        (old_id, m) for m in old_messages
    }
    assert {(r[3], r[4]) for r in entries if not str(r[2]).startswith("alt")} <= {
        (team.chat.id, m) for m in new_messages
    }
    before = len(world.bot_messages(team.chat))
    team.say(anna, "/board")  # the board changed: drawn again, not refused as unchanged
    wait_until(
        lambda: any(m.kind == "photo" for m in world.bot_messages(team.chat)[before:]),
        what="a new board",
    )
    assert not any("nicht geändert" in t for t in team.texts_since(before))


def test_a_forged_migration_moves_nothing(world: World, bot: BotThread) -> None:
    anna = world.person(1151, "Anna")
    mallory = world.person(1152, "Mallory")
    victim = world.group("Opfer", owner=anna)
    attacker = world.group("Angreifer", owner=mallory, supergroup=True)
    team = Team(world, victim)
    bot.start()
    team.say(anna, "/newboard Geheim")
    team.entry(anna, "/ist 1 vertraulich")
    # a service message in the attacker's group claiming to be the victim's upgrade
    with world.lock:
        note = world._store(attacker, mallory, service={"migrate_from_chat_id": victim.id})
        world._push({"message": world.message_json(attacker, note)})
    Team(world, attacker).say(mallory, "/export")
    assert rows(bot.database_url, "select chat_id from board") == [(victim.id,)]
    assert not any(m.kind == "document" for m in world.bot_messages(attacker))


def test_a_send_to_the_old_id_follows_the_migration(
    opened_board: OpenedBoard, world: World, bot: BotThread
) -> None:
    scene = opened_board
    group, anna, team = scene.group, scene.anna, scene.team
    team.open_card(anna, 5)
    world.migrate(group, notify=False)  # the bot does not see the service messages
    team.refresh()
    make_reminder_due(bot.database_url, 1)
    wait_until(
        lambda: any("Erinnerung" in t for t in world.bot_texts(team.chat)[-1:]),
        what="reminder in new chat",
    )
    refused = world.refusals()
    assert [r.description for r in refused] == [
        "Bad Request: group chat was upgraded to a supergroup chat"
    ]
    assert rows(bot.database_url, "select chat_id from board") == [(team.chat.id,)]
    team.entry(anna, "/ist 5 angekommen")


def test_removed_and_added_again(world: World, bot: BotThread) -> None:
    anna = world.person(1301, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Pause")
    world.remove_bot(group, anna)
    wait_until(
        lambda: rows(bot.database_url, "select active from group_chat") == [(0,)], what="inactive"
    )
    make_reminder_due(bot.database_url, 1)
    wait_until(
        lambda: (
            rows(bot.database_url, "select outcome from reminder_sent") == [("skipped_inactive",)]
        ),
        what="reminder skipped",
    )
    sent_while_away = [r for r in world.requests if r.method == "sendMessage" and r.status == 403]
    assert sent_while_away == []
    world.add_bot(group, anna)
    wait_until(
        lambda: rows(bot.database_url, "select active from group_chat") == [(1,)],
        what="active again",
    )
    before = team.bot_count()
    make_reminder_due(bot.database_url, 1, minutes_ago=2)
    wait_until(
        lambda: any("Erinnerung" in t for t in team.texts_since(before)),
        what="reminder after re-adding",
    )
    team.say(anna, "/status")  # the open board is still there
    assert "Stand: Pause" in team.last_text()


def test_a_403_on_a_send_marks_the_group_inactive(world: World, bot: BotThread) -> None:
    anna = world.person(1401, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Weg")
    group.bot_member = False  # removed without the bot hearing of it
    make_reminder_due(bot.database_url, 1)
    wait_until(
        lambda: rows(bot.database_url, "select active from group_chat") == [(0,)],
        what="inactive after 403",
    )
    # the claim is recorded before the send, its outcome right after the 403
    wait_until(
        lambda: rows(bot.database_url, "select outcome from reminder_sent") == [("chat_gone",)],
        what="the reminder's outcome",
    )


def test_two_forum_topics_run_two_boards(world: World, bot: BotThread) -> None:
    anna = world.person(1501, "Anna")
    ben = world.person(1502, "Ben")
    forum = world.group("Firma", owner=anna, forum=True)
    city = world.create_topic(forum, "Citybike")
    cargo = world.create_topic(forum, "Lastenrad")
    team_city, team_cargo = Team(world, forum, city), Team(world, forum, cargo)
    bot.start()
    team_city.say(anna, "/newboard Citybike")
    team_cargo.say(anna, "/newboard Lastenrad")
    assert "Lastenrad" in team_cargo.last_text()
    card_city = team_city.open_card(anna, 1)
    card_cargo = team_cargo.open_card(anna, 1)
    team_city.entry(ben, "nur Citybike", reply_to=card_city.message_id)
    team_cargo.entry(ben, "nur Lastenrad", reply_to=card_cargo.message_id)
    team_cargo.entry(ben, "/soll 2 Lastenrad-Ziel")
    team_city.say(ben, "/board")
    wait_until(
        lambda: any("nur Citybike" in t for t in world.bot_texts(forum, city)), what="city board"
    )
    assert not any("nur Lastenrad" in t for t in world.bot_texts(forum, city))
    team_cargo.say(ben, "/status")
    assert "Einträge: 2" in team_cargo.last_text()
    for point in range(2, 21):
        team_city.entry(anna, f"/ist {point} fertig")
    wait_until(
        lambda: any("vollständig" in t for t in world.bot_texts(forum, city)),
        what="completion in topic",
    )
    team_cargo.open_card(anna, 3)
    make_reminder_due(bot.database_url, 2)
    wait_until(
        lambda: any("⏰" in t for t in world.bot_texts(forum, cargo)), what="reminder in topic"
    )
    reminder = next(m for m in world.bot_messages(forum, cargo) if "⏰" in (m.text or ""))
    assert f"/{cargo}/" in (reminder.text or "")  # the card link points into the topic
    for message in world.bot_messages(forum):
        assert message.thread_id in (city, cargo)
    assert world.refusals() == []


def test_a_basic_group_never_gets_a_thread_id(world: World, bot: BotThread) -> None:
    anna = world.person(1601, "Anna")
    group = world.group("Klein", owner=anna)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Klein")
    card = team.open_card(anna, 1)
    team.entry(anna, "Antwort", reply_to=card.message_id)
    team.say(anna, "/undo")
    team.say(anna, "/board")
    posts = [r for r in world.requests if r.method.startswith("send")]
    assert posts
    assert all("message_thread_id" not in r.params for r in posts)


def test_faults_are_retried_and_nothing_is_posted_twice(
    world: World, emulator: BotApiEmulator, bot: BotThread
) -> None:
    anna = world.person(1701, "Anna")
    ben = world.person(1702, "Ben")
    group = world.group("Team", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.env["TELEGRAM_TIMEOUT_SECONDS"] = "2"
    bot.start()
    team.say(anna, "/newboard Störung")
    tried: list[str] = []

    def card_once(number: int) -> None:
        team.open_card(anna, number)
        time.sleep(0.5)
        cards = cards_of(world, group, number)
        assert len(cards) == 1, (tried[-1], len(cards))

    for fault in (
        Fault("sendMessage", "429", count=2, retry_after=1),
        Fault("sendMessage", "500", count=2),
        Fault("sendMessage", "502", count=1),
        Fault("sendMessage", "drop", count=2),
        Fault("sendMessage", "timeout", count=1, delay=3),
    ):
        tried.append(fault.kind)
        world.inject(fault)
        card_once(len(tried))
    world.inject(Fault("setMessageReaction", "drop", count=3))
    world.inject(Fault("setMessageReaction", "500", count=1))
    team.entry(ben, "/ist 1 trotz Störung")
    world.inject(Fault("setMessageReaction", "429", count=1, retry_after=1))
    team.entry(ben, "/ist 2 trotz 429")

    # Telegram unreachable for a while: connections refused, then back
    emulator.stop()
    waiting = world.send(group, ben, "/ist 3 während des Ausfalls")
    time.sleep(4)
    emulator.start()
    wait_until(lambda: waiting.reactions == ["👍"], timeout=60, what="recovery after the outage")
    texts = [e[2] for e in live_entries(bot.database_url)]
    assert texts == ["trotz Störung", "trotz 429", "während des Ausfalls"]
    assert world.violations == []


def test_refused_reactions_and_deleted_messages_are_quiet(world: World, bot: BotThread) -> None:
    anna = world.person(1801, "Anna")
    ben = world.person(1802, "Ben")
    group = world.group("Team", owner=anna, supergroup=True)
    group.reactions_enabled = False
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Leise")
    card = team.open_card(anna, 1)
    before = team.bot_count()
    world.send(group, ben, "ohne Reaktion", reply_to=card.message_id)
    wait_until(lambda: len(live_entries(bot.database_url)) == 1, what="entry stored")
    time.sleep(0.5)
    assert team.bot_count() == before  # nothing posted instead of the refused reaction
    # a command deleted before the bot answers: the answer is posted without the reply
    world.inject(Fault("sendMessage", "timeout", count=0))
    command = world.send(group, anna, "/point 99")
    world.delete(group, command.message_id)
    wait_until(lambda: team.bot_count() > before, what="answer to a deleted command")
    assert "gibt es nicht" in team.last_text()
    # the card itself deleted: /point posts a fresh one, replies to it land
    world.delete(group, card.message_id)
    fresh = team.open_card(anna, 1)
    world.send(group, ben, "an die neue Karte", reply_to=fresh.message_id)
    wait_until(lambda: len(live_entries(bot.database_url)) == 2, what="entry on the new card")

    def reactions_refused() -> list[str]:
        return [r.description for r in world.refusals() if r.method == "setMessageReaction"]

    wait_until(lambda: len(reactions_refused()) == 2, what="the second refused reaction")
    assert reactions_refused() == ["Bad Request: REACTION_INVALID"] * 2
    # besides: taking `Weiter ▶` off the deleted card, which Telegram refuses (best effort)
    others = {
        (r.method, r.params.get("message_id"))
        for r in world.refusals()
        if r.method != "setMessageReaction"
    }
    assert others <= {("editMessageText", str(card.message_id))}


def test_one_failing_chat_does_not_stop_the_others(world: World, bot: BotThread) -> None:
    anna = world.person(1901, "Anna")
    muted = world.group("Stumm", owner=anna, supergroup=True)
    other = world.group("Laut", owner=anna, supergroup=True)
    team_muted, team_other = Team(world, muted), Team(world, other)
    bot.start()
    team_muted.say(anna, "/newboard Stumm")
    team_other.say(anna, "/newboard Laut")
    card = team_muted.open_card(anna, 1)
    muted.can_send = False  # the bot lost the right to post here
    world.send(muted, anna, "/point 2")
    world.send(muted, anna, "Antwort trotzdem", reply_to=card.message_id)
    team_other.say(anna, "/status")
    assert "Stand: Laut" in team_other.last_text()
    wait_until(
        lambda: any(e[2] == "Antwort trotzdem" for e in live_entries(bot.database_url)),
        what="entry stored",
    )
    assert bot.alive()


def test_commands_for_other_bots_and_posts_of_bots_and_channels(
    world: World, bot: BotThread
) -> None:
    anna = world.person(2001, "Anna")
    robot = world.person(2002, "Robo", is_bot=True)
    group = world.group("Team", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Fremd")
    card = team.open_card(anna, 1)
    before = team.bot_count()
    world.send(group, anna, "/next@OtherBot")
    world.send(group, anna, "/ist@OtherBot 3 fremd")
    world.send(group, robot, "Bot-Antwort", reply_to=card.message_id)
    world.send(
        group,
        anna,
        "Kanal-Post",
        reply_to=card.message_id,
        sender_chat={"id": -100777, "type": "channel", "title": "Kanal"},
    )
    world.send(group, anna, "/status@SechsClusterTestBot")
    wait_until(lambda: "Stand: Fremd" in team.last_text(), what="the status")
    assert team.bot_count() == before + 1  # nothing else was answered, and in order
    assert "Einträge: 0" in team.last_text()
    assert live_entries(bot.database_url) == []


def test_stopping_during_a_burst_loses_nothing(world: World, bot: BotThread) -> None:
    """SIGTERM: the updates in work finish, the rest wait in the inbox; every reply answered.
    (kill -9 in a burst: tests/e2e/test_e2e_updates.py.)"""
    anna = world.person(2101, "Anna")
    people = [world.person(2110 + i, f"P{i}") for i in range(5)]
    group = world.group("Team", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Burst")
    card = team.open_card(anna, 4)
    burst = [
        world.send(group, people[i % 5], f"Antwort {i}", reply_to=card.message_id)
        for i in range(120)
    ]
    wait_until(lambda: any(m.reactions for m in burst), what="processing started")
    bot.stop(signal.SIGTERM)
    stored_at_stop = len(live_entries(bot.database_url))
    bot.start()
    wait_until(
        lambda: len(live_entries(bot.database_url)) == 120,
        timeout=90,
        what="all 120 replies stored",
    )
    entries = live_entries(bot.database_url)
    assert sorted(str(e[2]) for e in entries) == sorted(f"Antwort {i}" for i in range(120))
    assert len({e[4] for e in entries}) == 120
    wait_until(
        lambda: all(m.reactions == ["👍"] for m in burst),
        timeout=60,
        what="every reply acknowledged",
    )
    del stored_at_stop


def test_webhook_mode(world: World, bot: BotThread) -> None:
    port = free_port()
    bot.env.update(
        {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET": "geheim-123",
        }
    )
    anna = world.person(2201, "Anna")
    group = world.group("Haken", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start(ready_method="setWebhook")
    [hook] = world.calls("setWebhook")
    assert hook.params["url"] == f"http://127.0.0.1:{port}/telegram"
    assert hook.params["secret_token"] == "geheim-123"
    team.say(anna, "/newboard Webhook")
    card = team.open_card(anna, 1)
    team.entry(anna, "per Webhook", reply_to=card.message_id)
    assert [e[2] for e in live_entries(bot.database_url)] == ["per Webhook"]
    assert world.calls("getUpdates") == []


def test_a_message_from_a_group_marked_gone_brings_it_back(world: World, bot: BotThread) -> None:
    anna = world.person(2301, "Anna")
    group = world.group("Zurück", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Zurück")
    group.bot_member = False
    make_reminder_due(bot.database_url, 1)
    wait_until(
        lambda: rows(bot.database_url, "select active from group_chat") == [(0,)],
        what="inactive after 403",
    )
    group.bot_member = True  # re-added while the bot missed the membership update
    team.say(anna, "/status")
    wait_until(
        lambda: rows(bot.database_url, "select active from group_chat") == [(1,)],
        what="active again",
    )
