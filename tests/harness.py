"""Running the real bot process against the emulator, and waiting for what it does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.emulator import BotApiEmulator
from tests.emulator.world import TOKEN

REPO = Path(__file__).resolve().parents[1]
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
        process = self.process
        wait_until(
            lambda: (
                len(self.emulator.world.calls(ready_method)) > calls_before
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
        found: list[str] = []
        serving = True
        for line in self.log().splitlines():
            if "Application is stopping" in line:
                serving = False
            elif "Application started" in line:
                serving = True
            elif serving and line.startswith("Traceback"):
                found.append(line)
        return found

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None
