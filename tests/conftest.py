"""Shared fixtures: the Bot API emulator, the real bot process, databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator import BotApiEmulator, World
from tests.harness import BotProcess


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


@pytest.fixture
def bot(emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(emulator, sqlite_url, tmp_path)
    yield process
    code = process.stop()
    log = process.log()
    assert "Traceback" not in log, f"the bot logged a traceback:\n{log}"
    assert "7000000001:AAH" not in log, "the token reached the log"
    del code
