"""Shared fixtures: the Bot API emulator, the real bot process, databases."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.playground.emulator import BotApiEmulator, World
from bot.store.db import make_engine, normalise_url, upgrade_schema
from tests.support.harness import BotProcess, BotThread
from tests.support.inprocess import inprocess_bot
from tests.support.opened import TITLE, InProcessBoard, OpenedBoard, group_of_two
from tests.support.postgres import PostgresServer


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator(World()) as running:
        yield running


@pytest.fixture
def world(emulator: BotApiEmulator) -> World:
    return emulator.world


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.sqlite3'}"


def _checked(running: BotProcess | BotThread) -> None:
    running.stop()
    log = running.log()
    assert running.tracebacks_while_running() == [], f"the bot logged a traceback:\n{log}"
    assert "7000000001:AAH" not in log, "the token reached the log"


@pytest.fixture
def bot(emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path) -> Iterator[BotThread]:
    """The bot serving in a thread of the test process (see BotThread)."""
    running = BotThread(emulator, sqlite_url, tmp_path)
    yield running
    _checked(running)


@pytest.fixture
def bot_process(emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path) -> Iterator[BotProcess]:
    """`python -m bot` as a process: for tests of signals, kill -9 and what the process prints."""
    process = BotProcess(emulator, sqlite_url, tmp_path)
    yield process
    _checked(process)


@pytest.fixture
def opened_board(world: World, bot: BotThread) -> OpenedBoard:
    """The common scene with the bot in a thread: started, the board opened, its answer awaited."""
    group, anna, ben = group_of_two(world)
    bot.start()
    scene = OpenedBoard(world, group, anna, ben, TITLE)
    scene.team.say(anna, f"/newboard {TITLE}")
    return scene


@pytest.fixture
async def opened_board_inprocess(
    emulator: BotApiEmulator, tmp_path: Path
) -> AsyncIterator[InProcessBoard]:
    """The common scene in-process: the board opened and its updates delivered."""
    world = emulator.world
    group, anna, ben = group_of_two(world)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, f"/newboard {TITLE}")
        await bot.deliver()
        yield InProcessBoard(world, group, anna, ben, TITLE, bot)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL server programs here: {exc}")
    yield server
    server.stop()


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"test_{next(_databases)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated engine on each supported database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'unit.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_engine(normalise_url(url))
    upgrade_schema(made)
    yield made
    made.dispose()
