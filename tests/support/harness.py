"""Running the real bot process against the emulator, and waiting for what it does."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from telegram import Update

from bot.app import build_application
from bot.model.catalogue import load_catalogue
from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.model import TOKEN
from bot.settings import Settings
from bot.store.db import open_database
from bot.texts import load_texts
from bot.updates.run import serve

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll until the predicate is truthy; fail the test with `what` if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


POLLING_STARTED = "starting long polling"


def tracebacks_while_serving(log: str) -> list[str]:
    """Tracebacks in a bot's log while it served (not those of libraries during shutdown)."""
    found: list[str] = []
    serving = True
    for line in log.splitlines():
        if "Application is stopping" in line:
            serving = False
        elif "Application started" in line:
            serving = True
        elif serving and line.startswith("Traceback"):
            found.append(line)
    return found


def _ready(
    emulator: BotApiEmulator, method: str, calls_before: int, log: str, lines_before: int
) -> bool:
    """The bot serves: for polling, its log says so (a getUpdates call is recorded only when
    its long poll returns, seconds later; updates sent meanwhile wait in the emulator)."""
    if method == "getUpdates":
        return log.count(POLLING_STARTED) > lines_before
    return len(emulator.world.calls(method)) > calls_before


class BotProcess:
    """`python -m bot` as a user starts it, pointed at the emulator and a database."""

    def __init__(
        self, emulator: BotApiEmulator, database_url: str, workdir: Path, **env: str
    ) -> None:
        self.emulator = emulator
        self.database_url = database_url
        self.workdir = workdir
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "bot.log"
        self.starts = 0

    def start(self, ready_method: str = "getUpdates") -> BotProcess:
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("TELEGRAM_", "WEBHOOK_", "BOT_", "DATABASE_"))
            },
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": self.emulator.base_url,
            "DATABASE_URL": self.database_url,
            "REMINDER_SWEEP_SECONDS": "1",
            "TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "6000",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        env["PYTHONPATH"] = str(REPO)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        calls_before = len(self.emulator.world.calls(ready_method))
        lines_before = self.log().count(POLLING_STARTED)
        process = self.process
        wait_until(
            lambda: (
                _ready(self.emulator, ready_method, calls_before, self.log(), lines_before)
                or process.poll() is not None
            ),
            60,
            "the bot to start polling",
        )
        if process.poll() is not None:
            raise AssertionError(f"bot exited at start:\n{self.log()}")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        code = self.process.returncode
        self.process = None
        return code

    def restart(self) -> BotProcess:
        self.stop()
        return self.start()

    def tracebacks_while_running(self) -> list[str]:
        """Tracebacks the bot logged while it was serving (shutdown noise of libraries aside)."""
        return tracebacks_while_serving(self.log())

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class _Records(logging.Handler):
    """Every log line of the bot while it serves in this process, formatted like the process's."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class BotThread:
    """The bot served in a thread of the test process, long-polling the emulator.

    The same application, pipeline, poller and sweeps as `python -m bot`, without a process
    start (imports, migrations) for every test: for tests whose point is the bot's behaviour.
    Tests whose point is the process itself (signals, kill -9, what it prints) use BotProcess.
    Same interface as BotProcess.
    """

    def __init__(
        self, emulator: BotApiEmulator, database_url: str, workdir: Path, **env: str
    ) -> None:
        self.emulator = emulator
        self.database_url = database_url
        self.workdir = workdir
        self.env = env
        self.starts = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._records = _Records()
        self._failure: BaseException | None = None

    def _settings(self) -> Settings:
        values: dict[str, object] = {
            "telegram_bot_token": TOKEN,
            "telegram_api_base_url": self.emulator.base_url,
            "database_url": self.database_url,
            "reminder_sweep_seconds": 1,
            "telegram_group_messages_per_minute": 6000,
        }
        values.update({name.lower(): value for name, value in self.env.items()})
        return Settings(**values)  # type: ignore[arg-type]

    def start(self, ready_method: str = "getUpdates") -> BotThread:
        settings = self._settings()
        engine = open_database(settings.database)
        application = build_application(settings, engine, load_catalogue(), load_texts())
        root = logging.getLogger()
        root.addHandler(self._records)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        calls_before = len(self.emulator.world.calls(ready_method))
        lines_before = self.log().count(POLLING_STARTED)
        started = threading.Event()

        async def serve_here() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            started.set()
            await serve(application, engine, settings, list(Update.ALL_TYPES), self._stop)

        def run() -> None:
            try:
                asyncio.run(serve_here())
            except BaseException as exc:  # reported by start() and stop()
                self._failure = exc
                started.set()
            finally:
                engine.dispose()

        self._failure = None
        self._thread = threading.Thread(target=run, name="bot", daemon=True)
        self._thread.start()
        self.starts += 1
        started.wait(30)
        wait_until(
            lambda: (
                _ready(self.emulator, ready_method, calls_before, self.log(), lines_before)
                or self._failure is not None
            ),
            60,
            "the bot to start polling",
        )
        if self._failure is not None:
            raise AssertionError(f"bot failed at start: {self._failure!r}\n{self.log()}")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Stop as on SIGTERM (the only signal a thread can be given)."""
        if sig != signal.SIGTERM:
            raise AssertionError("a bot in a thread can only be stopped as on SIGTERM")
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return 0
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        self._thread = None
        logging.getLogger().removeHandler(self._records)
        if thread.is_alive():
            raise AssertionError("the bot did not stop")
        return 1 if self._failure is not None else 0

    def restart(self) -> BotThread:
        self.stop()
        return self.start()

    def tracebacks_while_running(self) -> list[str]:
        """Tracebacks the bot logged while it was serving (shutdown noise of libraries aside)."""
        return tracebacks_while_serving(self.log())

    def log(self) -> str:
        return "\n".join(self._records.lines)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
