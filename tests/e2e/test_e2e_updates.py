"""End-to-end: updates reach the handlers fairly, in order per chat, exactly once, never lost.

The real `python -m bot` against the emulator: a slow chat beside a busy one, `kill -9` in a
burst (polling and webhook), and three webhook processes on one PostgreSQL.
"""

from __future__ import annotations

import itertools
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from bot.playground.emulator import BotApiEmulator, Fault, World
from bot.playground.emulator.model import Person, StoredMessage
from bot.playground.emulator.server import _Handler
from tests.support.dbtools import live_entries, rows
from tests.support.harness import BotProcess, BotThread, wait_until
from tests.support.ports import free_port
from tests.support.scenario import Team

SECRET = "geheim-123"
pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _answers_without_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator writes headers and body separately; with Nagle's algorithm on, the body
    then waits ~40 ms for the bot's delayed ACK on every call, which is all the time of a
    chat worked strictly in order. (Worth setting in bot/playground/emulator/server.py for every test.)"""
    monkeypatch.setattr(_Handler, "disable_nagle_algorithm", True)


def _webhook_env(port: int, url_port: int | None = None) -> dict[str, str]:
    return {
        "WEBHOOK_URL": f"http://127.0.0.1:{url_port or port}",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET": SECRET,
    }


def _groups(world: World, count: int, first_person: int) -> tuple[Person, list[Team]]:
    anna = world.person(first_person, "Anna")
    teams = [
        Team(world, world.group(f"Gruppe {i}", owner=anna, supergroup=True)) for i in range(count)
    ]
    return anna, teams


def _boards_with_cards(anna: Person, teams: list[Team]) -> list[StoredMessage]:
    """Each team opens a board and the card of point 1 (sent to all first, then awaited)."""
    for team in teams:
        team.say(anna, f"/newboard {team.chat.title}", wait=False)
    for team in teams:
        wait_until(team.bot_count, what=f"board in {team.chat.title}")
        team.say(anna, "/point 1", wait=False)
    return [team.wait_card(1) for team in teams]


def _unprocessed(database_url: str) -> int:
    [(count,)] = rows(database_url, "select count(*) from inbox_update where processed_at is null")
    return int(str(count))


def test_a_slow_chat_does_not_hold_up_the_others(world: World, bot: BotThread) -> None:
    anna, [slow, busy] = _groups(world, 2, 3001)
    people = [world.person(3010 + i, f"P{i}") for i in range(5)]
    bot.start()
    slow_card, busy_card = _boards_with_cards(anna, [slow, busy])
    # Telegram answers the slow chat with 502s and timeouts (for 15 s, or until we are done)
    for _ in range(40):
        world.inject(Fault("*", "502", chat_id=slow.chat.id))
        world.inject(Fault("*", "timeout", delay=1.0, chat_id=slow.chat.id))
    slow_replies = [
        world.send(slow.chat, people[i % 5], f"langsam {i}", reply_to=slow_card.message_id)
        for i in range(10)
    ]
    time.sleep(0.5)  # the slow chat's updates are in work (and failing) first
    started = time.monotonic()
    busy_replies = [
        world.send(busy.chat, people[i % 5], f"zügig {i}", reply_to=busy_card.message_id)
        for i in range(150)
    ]
    wait_until(
        lambda: all(m.reactions == ["👍"] for m in busy_replies),
        timeout=15,
        what="every reply in the busy chat acknowledged",
    )
    took = time.monotonic() - started
    slow_acknowledged = sum(1 for m in slow_replies if m.reactions)
    print(
        f"\nfairness: 150 replies of the busy chat acknowledged in {took:.2f} s "
        f"while the slow chat had {slow_acknowledged} of 10 acknowledged"
    )
    assert took < 10.0
    assert time.monotonic() - started < 15  # measured while the slow chat was still failing
    with world.lock:
        world.faults = [f for f in world.faults if f.chat_id != slow.chat.id]
    wait_until(
        lambda: len(live_entries(bot.database_url)) == 160, timeout=30, what="all 160 entries"
    )
    texts = Counter(str(e[2]) for e in live_entries(bot.database_url))
    assert set(texts.values()) == {1}


def test_kill_during_a_burst_in_ten_groups_stores_each_entry_once(
    world: World, bot_process: BotProcess
) -> None:
    bot = bot_process  # kill -9 needs the real process
    anna, teams = _groups(world, 10, 3101)
    people = [world.person(3110 + i, f"P{i}") for i in range(6)]
    bot.start()
    cards = _boards_with_cards(anna, teams)
    first = teams[0]
    before_board = first.bot_count()
    # the board's image is slow to post: the /board is in work when the process is killed
    world.inject(Fault("sendPhoto", "timeout", delay=5.0, chat_id=first.chat.id))
    world.send(first.chat, anna, "/board")
    burst = [
        world.send(team.chat, people[i % 6], f"Antwort {g}-{i}", reply_to=card.message_id)
        for i in range(30)
        for g, (team, card) in enumerate(zip(teams, cards, strict=True))
    ]
    wait_until(
        lambda: any(
            r.method == "sendPhoto" and r.description.startswith("injected")
            for r in world.calls("sendPhoto")
        ),
        what="the board image on its way",
    )
    bot.stop(signal.SIGKILL)
    stored_at_kill = len(live_entries(bot.database_url))
    board_at_kill = len(first.texts_since(before_board))
    bot.start()
    wait_until(
        lambda: len(live_entries(bot.database_url)) == 300,
        timeout=60,
        what="all 300 replies stored",
    )
    wait_until(lambda: _unprocessed(bot.database_url) == 0, what="the inbox worked off")
    entries = live_entries(bot.database_url)
    assert sorted(str(e[2]) for e in entries) == sorted(
        f"Antwort {g}-{i}" for g in range(10) for i in range(30)
    )
    assert len({(e[3], e[4]) for e in entries}) == 300
    board_posts = first.texts_since(before_board)
    photos = [m for m in world.bot_messages(first.chat)[before_board:] if m.kind == "photo"]
    # replies whose entry was committed but not yet acknowledged at the kill are resumed once
    # after the restart, and the handler repeats the reaction then
    wait_until(lambda: all(m.reactions == ["👍"] for m in burst), what="every reply acknowledged")
    unacknowledged = sum(1 for m in burst if m.reactions != ["👍"])
    print(
        f"\nkill -9 in a burst: {stored_at_kill} of 300 entries stored at the kill, "
        f"{board_at_kill} board messages posted before it, {len(board_posts)} after the restart, "
        f"{len(photos)} board images, {unacknowledged} replies left without a reaction"
    )
    assert stored_at_kill < 300
    assert all(n == 1 for n in Counter(board_posts).values()), "a board message posted twice"
    assert len(photos) <= 1


def test_a_slow_reaction_does_not_hold_up_its_chat_and_comes_again_after_a_kill(
    world: World, bot_process: BotProcess
) -> None:
    bot = bot_process  # kill -9 needs the real process
    anna, [team] = _groups(world, 1, 3301)
    people = [world.person(3310 + i, f"P{i}") for i in range(2)]
    bot.start()
    [card] = _boards_with_cards(anna, [team])
    # Telegram does not answer the first reaction (the connection drops after 30 s)
    world.inject(Fault("setMessageReaction", "timeout", delay=30.0, chat_id=team.chat.id))
    first = world.send(team.chat, people[0], "erste Antwort", reply_to=card.message_id)
    wait_until(
        lambda: any(r.description == "injected timeout" for r in world.calls("setMessageReaction")),
        what="the first reaction on its way",
    )
    second = world.send(team.chat, people[1], "zweite Antwort", reply_to=card.message_id)
    wait_until(lambda: second.reactions == ["👍"], what="the second reply acknowledged")
    # the chat went on while the first reaction was still waiting for Telegram's answer; the
    # first update is finished only once its reaction is through
    wait_until(lambda: _unprocessed(bot.database_url) == 1, what="the second update finished")
    assert first.reactions == []
    bot.stop(signal.SIGKILL)
    bot.start()
    wait_until(lambda: first.reactions == ["👍"], what="the first reaction sent after the restart")
    wait_until(lambda: _unprocessed(bot.database_url) == 0, what="the inbox worked off")
    assert sorted(str(e[2]) for e in live_entries(bot.database_url)) == [
        "erste Antwort",
        "zweite Antwort",
    ]


def test_webhook_refuses_forgeries_and_loses_nothing_on_kill(
    world: World, bot_process: BotProcess
) -> None:
    bot = bot_process  # kill -9 needs the real process
    port = free_port()
    bot.env.update(_webhook_env(port))
    anna, [team] = _groups(world, 1, 3201)
    people = [world.person(3210 + i, f"P{i}") for i in range(4)]
    bot.start(ready_method="setWebhook")
    [hook] = world.calls("setWebhook")
    assert hook.params["url"] == f"http://127.0.0.1:{port}/telegram"
    assert hook.params["secret_token"] == SECRET
    [card] = _boards_with_cards(anna, [team])
    url = f"http://127.0.0.1:{port}/telegram"
    forged = {
        "update_id": 999_999,
        "message": {
            "message_id": 999_999,
            "date": 1_700_000_000,
            "chat": {"id": team.chat.id, "type": "supergroup", "title": "x"},
            "from": {"id": anna.id, "is_bot": False, "first_name": "Anna"},
            "text": "/close",
        },
    }
    assert httpx.post(url, json=forged).status_code == 403
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "geheim-124"}
    assert httpx.post(url, json=forged, headers=wrong).status_code == 403
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    assert httpx.post(url, content=b"x" * (2 * 1024 * 1024), headers=right).status_code == 413
    assert rows(bot.database_url, "select count(*) from inbox_update where update_id = 999999") == [
        (0,)
    ]
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200

    burst = [
        world.send(team.chat, people[i % 4], f"Haken {i}", reply_to=card.message_id)
        for i in range(100)
    ]
    wait_until(lambda: len(live_entries(bot.database_url)) >= 20, what="processing started")
    bot.stop(signal.SIGKILL)
    stored_at_kill = len(live_entries(bot.database_url))
    bot.start(ready_method="setWebhook")
    wait_until(
        lambda: len(live_entries(bot.database_url)) == 100,
        timeout=60,
        what="all 100 replies stored",
    )
    entries = live_entries(bot.database_url)
    assert [str(e[2]) for e in entries] == [f"Haken {i}" for i in range(100)]  # and in order
    wait_until(lambda: all(m.reactions == ["👍"] for m in burst), what="every reply acked")
    wait_until(lambda: world.pending_updates() == 0, what="every update answered 200")
    assert _unprocessed(bot.database_url) == 0
    failed_posts = sum(1 for _, _, status in world.webhook_posts if status != 200)
    print(
        f"\nwebhook kill -9: {stored_at_kill} of 100 stored at the kill, "
        f"{failed_posts} deliveries unanswered or refused and delivered again"
    )
    assert stored_at_kill < 100
    assert world.calls("getUpdates") == []


@pytest.mark.postgres
def test_three_webhook_processes_on_postgres_exactly_once_in_order(
    world: World, emulator: BotApiEmulator, postgres_url: str, tmp_path: Path
) -> None:
    chats, per_chat = 30, 20
    ports = [free_port() for _ in range(3)]
    processes = []
    for number, port in enumerate(ports):
        workdir = tmp_path / f"bot{number}"
        workdir.mkdir()
        processes.append(
            BotProcess(emulator, postgres_url, workdir, **_webhook_env(port, url_port=ports[0]))
        )
    world.webhook_targets = [f"http://127.0.0.1:{port}/telegram" for port in ports]
    world.webhook_repeat_every = 7  # every 7th answered update is delivered once more
    anna, teams = _groups(world, chats, 3301)
    people = [world.person(3310 + i, f"P{i}") for i in range(5)]
    try:
        began = time.monotonic()
        for process in processes:
            process.start(ready_method="setWebhook")
        cards = _boards_with_cards(anna, teams)
        set_up = time.monotonic()
        posts_before = len(world.webhook_posts)
        first_update = world.next_update_id
        sent: dict[int, list[int]] = {}
        for i in range(per_chat):
            for team, card in zip(teams, cards, strict=True):
                message = world.send(team.chat, people[i % 5], f"E {i}", reply_to=card.message_id)
                sent.setdefault(team.chat.id, []).append(message.message_id)
        total = chats * per_chat
        wait_until(lambda: len(live_entries(postgres_url)) >= total // 3, what="a third processed")
        victim = processes[1]
        victim.stop(signal.SIGKILL)
        killed = time.monotonic()
        stored_at_kill = len(live_entries(postgres_url))
        wait_until(
            lambda: len(live_entries(postgres_url)) >= total,
            timeout=90,
            what=f"all {total} replies stored",
        )
        wait_until(lambda: world.pending_updates() == 0, what="every update answered 200")
        finished = time.monotonic()
        entries = live_entries(postgres_url)
        found = Counter((int(str(e[3])), int(str(e[4]))) for e in entries)
        order_violations = 0
        for chat_id, message_ids in sent.items():
            stored = [int(str(e[4])) for e in entries if int(str(e[3])) == chat_id]
            order_violations += sum(1 for a, b in itertools.pairwise(stored) if a > b)
            assert sorted(stored) == message_ids
        posts = [p for p in world.webhook_posts[posts_before:] if p[0] >= first_update]
        per_update = Counter(update_id for update_id, _, _ in posts)
        redelivered = sum(1 for n in per_update.values() if n > 1)
        unanswered = sum(1 for _, _, status in posts if status != 200)
        unprocessed = _unprocessed(postgres_url)
        print(
            f"\nthree processes on PostgreSQL: {total} updates for {chats} chats, 1 killed "
            f"(at {stored_at_kill} entries), {len(posts)} deliveries, {redelivered} updates "
            f"delivered more than once ({unanswered} deliveries unanswered or refused), "
            f"{len(entries)} entries found, {sum(n > 1 for n in found.values())} duplicates, "
            f"{order_violations} order violations, {unprocessed} left unprocessed; "
            f"start and boards {set_up - began:.1f} s, replies {finished - set_up:.1f} s "
            f"({finished - killed:.1f} s after the kill)"
        )
        assert len(entries) == total
        assert set(found.values()) == {1}
        assert order_violations == 0
        assert unprocessed == 0
        assert stored_at_kill < total
        assert redelivered > 0
        for process in (processes[0], processes[2]):
            assert process.tracebacks_while_running() == [], process.log()
    finally:
        for process in processes:
            process.stop()


def test_a_stop_while_telegram_does_not_answer_ends_the_wait(
    world: World, bot_process: BotProcess
) -> None:
    """SIGTERM during start-up, while getMe is retried with backoff, stops the bot at once
    (a service manager would otherwise wait out every retry, then kill it)."""
    world.inject(Fault("getMe", "502", count=100))
    bot_process.start(ready_method="getMe")
    wait_until(lambda: len(world.calls("getMe")) >= 3, 20, "getMe to be retried")
    began = time.monotonic()
    assert bot_process.stop(signal.SIGTERM, timeout=20) == 0
    assert time.monotonic() - began < 5
    assert "stopped before Telegram answered" in bot_process.log()
    assert not world.calls("getUpdates")
