"""A chat's sends in order across processes (SPEC §12, issue 19): two bot processes in webhook
mode on one PostgreSQL, a chat's updates delivered to each in turn while the group's posts wait
behind its limit (the emulator enforcing 20 posts a minute per group, the minute shortened).

The chat's posts go out in the order of its updates, each once; when the process holding the
chat's posts is killed (-9), the other one sends them, in order, before that chat's newer posts.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.model import Chat, Person
from bot.playground.emulator.server import _Handler
from tests.support.cards import card_numbers
from tests.support.dbtools import rows
from tests.support.harness import BotProcess, wait_until
from tests.support.ports import free_port
from tests.support.scenario import Team

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECRET = "geheim-456"
WINDOW = 4.0  # the emulator's minute: 20 posts per group in it
PER_MINUTE = "120"  # each bot's pace: 20 posts per group in 10.5 s
BOT_WINDOW = 10.5
FILL = 20  # point 20's card: posted to fill a window (apart from the cards counted in order)
LEASE = "10"


@pytest.fixture(autouse=True)
def _answers_without_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Handler, "disable_nagle_algorithm", True)


def _counted(world: World, chat: Chat) -> list[int]:
    return [point for point in card_numbers(world, chat) if point != FILL]


def _unsent(url: str) -> int:
    return int(str(rows(url, "select count(*) from outbox_send where sent_at is null")[0][0]))


def _unsent_cards(url: str, point: int) -> int:
    """The stored cards of `point` not yet marked sent."""
    found = rows(
        url,
        "select count(*) from outbox_send where sent_at is null and payload like ?",
        f'%"text": "<b>{point}.%',
    )
    return int(str(found[0][0]))


def _fill(world: World, team: Team, anna: Person) -> None:
    """Twenty posts: the group's window is full (the emulator's, and a process's own when
    it handled them all)."""
    for _ in range(20):
        world.send(team.chat, anna, f"/point {FILL}")
    wait_until(lambda: world.pending_updates() == 0, what="the filling updates handled")


def test_two_processes_send_a_chat_s_posts_in_order_and_a_dead_holder_s_first(
    world: World, emulator: BotApiEmulator, postgres_url: str, tmp_path: Path
) -> None:
    """Two webhook processes on one PostgreSQL. The chat's updates go to each in turn while
    the group's posts wait behind its limit: the cards go out in the order asked, each once.
    Then one process handles every update until its own window is full and a card waits in
    it; it is killed (-9), and the other process gets the chat's next cards: the waiting card
    goes out first (once the dead process's lease ran out), then the newer ones, in order.
    (Before issue 19 the newer cards overtook it: each process sent the rows it stored.)"""
    world.flood.enforced = True
    world.flood.group_window = WINDOW
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}/telegram" for port in ports]
    processes = []
    for number, port in enumerate(ports):
        workdir = tmp_path / f"bot{number}"
        workdir.mkdir()
        env = {
            "WEBHOOK_URL": f"http://127.0.0.1:{ports[0]}",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET": SECRET,
            "TELEGRAM_GROUP_MESSAGES_PER_MINUTE": PER_MINUTE,
            "OUTBOX_LEASE_SECONDS": LEASE,
        }
        processes.append(BotProcess(emulator, postgres_url, workdir, **env))
    anna = world.person(9_000_000_601, "Anna")
    team = Team(world, world.group("Reihenfolge", owner=anna, supergroup=True))
    try:
        for process in processes:
            process.start(ready_method="setWebhook")
        world.webhook_targets = urls  # taken in turn
        team.say(anna, "/newboard Reihenfolge")

        # the window full, then the chat's updates to each process in turn
        _fill(world, team, anna)
        for point in range(1, 11):
            world.send(team.chat, anna, f"/point {point}")
        wait_until(lambda: len(_counted(world, team.chat)) >= 10, timeout=60, what="10 cards")
        wait_until(lambda: _unsent(postgres_url) == 0, timeout=30, what="every post sent")
        assert _counted(world, team.chat) == list(range(1, 11))

        # one process's own window full and a card waiting in it; killed, the other one
        # sends that card before the chat's newer ones
        time.sleep(BOT_WINDOW * 1.1)  # every window empty again
        holder, survivor = processes
        world.webhook_targets = [urls[0]]
        _fill(world, team, anna)
        world.send(team.chat, anna, "/point 11")
        # killed only once every fill card Telegram took is marked sent: a kill between
        # Telegram's answer and the mark repeats that send (the one window the README names)
        wait_until(
            lambda: _unsent_cards(postgres_url, 11) == 1 and _unsent_cards(postgres_url, FILL) == 0,
            what="the card of point 11 waiting, every fill card marked sent",
        )
        assert _counted(world, team.chat) == list(range(1, 11))
        assert holder.process is not None
        held = rows(postgres_url, "select owner from outbox_chat where chat_id = ?", team.chat.id)
        assert [int(str(owner).rsplit("-", 2)[1]) for (owner,) in held] == [holder.process.pid]
        assert holder.stop(signal.SIGKILL) == -signal.SIGKILL
        world.webhook_targets = [urls[1]]
        for point in range(12, 16):
            world.send(team.chat, anna, f"/point {point}")
        wait_until(lambda: len(_counted(world, team.chat)) >= 15, timeout=60, what="15 cards")
        wait_until(lambda: _unsent(postgres_url) == 0, timeout=30, what="every post sent")
        time.sleep(1.5)  # nothing more comes
        assert _counted(world, team.chat) == list(range(1, 16)), "out of order, or twice"
        assert card_numbers(world, team.chat).count(FILL) == 40, "a post lost or sent twice"
        assert survivor.tracebacks_while_running() == [], survivor.log()
    finally:
        for process in processes:
            process.stop()
