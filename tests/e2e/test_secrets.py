"""The token and the database password never appear in what the bot prints (SPEC §8).

In-process: the formatters redact messages, arguments and tracebacks, in text and JSON lines,
and the last resorts (uncaught exceptions, threads, asyncio) go through them. As a user runs
it: `python -m bot` with a token Telegram refuses, an API address that answers 404, a wrong
database password, an unreachable database, and a password with `%` escapes that works.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from telegram.error import InvalidToken

from bot import logs
from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.model import TOKEN
from tests.support.harness import BotProcess
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[2]
TOKEN_SECRET = TOKEN.split(":", 1)[1]
# a password with the characters that need escaping in a URL: `@`, `%`, `:` and `/`
PASSWORD = "Pw9@xK%3:vQ/z"
PASSWORD_FRAGMENTS = ("Pw9", "vQ", "xK%3", "xK%253")


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The bot's logging set up into a buffer; hooks and handlers restored afterwards."""
    root = logging.getLogger()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    buffer = io.StringIO()
    logs.forget_secrets()
    logs.setup("text", stream=buffer)
    logs.add_secret(TOKEN)
    logs.add_database_url(f"postgresql://bot:{quote(PASSWORD, safe='')}@db/sechscluster")
    yield buffer
    logging.captureWarnings(False)
    logs.forget_secrets()


def _leaks(text: str) -> list[str]:
    return [
        secret
        for secret in (TOKEN_SECRET, PASSWORD, quote(PASSWORD, safe=""), *PASSWORD_FRAGMENTS)
        if secret in text
    ]


def test_message_arguments_and_traceback_are_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    log.info("token %s and url %s", TOKEN, f"https://api/bot{TOKEN}/getMe")
    try:
        raise RuntimeError(f"could not connect as bot:{quote(PASSWORD, safe='')}@db")
    except RuntimeError:
        log.exception("database said %r", PASSWORD)
    output = captured.getvalue()
    assert "token *** and url https://api/bot***/getMe" in output
    assert "RuntimeError: could not connect as bot:***@db" in output
    assert "Traceback" in output
    assert _leaks(output) == []


def test_json_lines_carry_time_level_logger_message_and_ids(captured: io.StringIO) -> None:
    logs.use_format("json")
    log = logging.getLogger("bot.updates")
    log.info("processed with %s", TOKEN, extra={"chat_id": -1001234, "update_id": 77})
    try:
        raise ValueError(PASSWORD)
    except ValueError:
        log.exception("failed")
    lines = captured.getvalue().splitlines()
    assert len(lines) == 2  # one line per event, the traceback included
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.updates"
    assert first["message"] == "processed with ***"
    assert first["chat_id"] == -1001234
    assert first["update_id"] == 77
    assert first["time"].endswith("+00:00")
    assert "chat_id" not in second
    assert second["exception"].startswith("Traceback")
    assert second["exception"].endswith("ValueError: ***")
    assert _leaks(captured.getvalue()) == []


def test_text_lines_name_chat_and_update(captured: io.StringIO) -> None:
    logging.getLogger("bot").info("entry saved", extra={"chat_id": -42, "update_id": 9})
    assert captured.getvalue().rstrip().endswith("bot: entry saved chat_id=-42 update_id=9")


def test_a_refused_token_is_logged_without_its_traceback(captured: io.StringIO) -> None:
    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    except InvalidToken:
        logging.getLogger("telegram.ext").exception("Invalid token. Aborting retry loop.")
    output = captured.getvalue()
    assert "Traceback" not in output
    assert "Aborting retry loop. (The token `***` was rejected by the server.)" in output
    assert _leaks(output) == []


def test_uncaught_exceptions_in_main_thread_and_threads_are_redacted(
    captured: io.StringIO,
) -> None:
    try:
        raise RuntimeError(f"main thread saw {TOKEN}")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)

    def fail() -> None:
        raise RuntimeError(f"worker saw {PASSWORD}")

    worker = threading.Thread(target=fail, name="worker")
    worker.start()
    worker.join()
    output = captured.getvalue()
    assert "CRITICAL bot: stopped by an unexpected error" in output
    assert "RuntimeError: main thread saw ***" in output
    assert "CRITICAL bot: worker stopped by an unexpected error" in output
    assert "RuntimeError: worker saw ***" in output
    assert _leaks(output) == []


def test_uncaught_refused_token_is_one_sentence(
    captured: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    error = InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    error.__cause__ = InvalidToken("Unauthorized")
    sys.excepthook(InvalidToken, error, None)
    printed = capsys.readouterr().err
    assert printed == (
        "Cannot start: Telegram refused the bot token (Unauthorized); check TELEGRAM_BOT_TOKEN "
        "and, if set, TELEGRAM_API_BASE_URL.\n"
    )


def test_asyncio_unretrieved_task_exception_is_redacted(captured: io.StringIO) -> None:
    async def fail() -> None:
        raise RuntimeError(f"task saw {TOKEN}")

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.01)
        assert task.done()
        del task
        gc.collect()  # the loop reports the unretrieved exception when the task is collected

    asyncio.run(main())
    output = captured.getvalue()
    assert "ERROR asyncio: Task exception was never retrieved" in output
    assert "RuntimeError: task saw ***" in output
    assert _leaks(output) == []


def test_short_values_are_not_treated_as_secrets(captured: io.StringIO) -> None:
    logs.add_secret("bot")
    logging.getLogger("bot").info("bot started")
    assert "INFO bot: bot started" in captured.getvalue()


# --- `python -m bot` as an operator runs it ----------------------------------------------------


def _run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "LOG_", "HEALTH_", "BOT_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("token", "path"),
    [
        (TOKEN[:-4] + "XXXX", ""),  # a token Telegram answers 401 for
        (TOKEN, "/not-the-api"),  # a wrong TELEGRAM_API_BASE_URL: 404
    ],
    ids=["401-token", "404-path"],
)
def test_refused_token_is_one_sentence_and_never_printed(
    emulator: BotApiEmulator, tmp_path: Path, token: str, path: str
) -> None:
    result = _run_bot(
        tmp_path,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL=emulator.base_url + path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert token.split(":", 1)[1] not in output
    assert TOKEN_SECRET not in output
    assert result.stderr.rstrip().splitlines()[-1] == (
        "Cannot start: Telegram refused the bot token (Unauthorized); check TELEGRAM_BOT_TOKEN "
        "and, if set, TELEGRAM_API_BASE_URL."
    )


def test_refused_token_in_json_lines(emulator: BotApiEmulator, tmp_path: Path) -> None:
    result = _run_bot(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN[:-4] + "XXXX",
        TELEGRAM_API_BASE_URL=emulator.base_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        LOG_FORMAT="json",
    )
    *events, last = result.stderr.rstrip().splitlines()
    assert last.startswith("Cannot start: Telegram refused the bot token")
    parsed = [json.loads(line) for line in events]  # every line before it is one JSON event
    assert parsed
    assert all({"time", "level", "logger", "message"} <= set(event) for event in parsed)
    assert any(event["logger"].startswith("alembic") for event in parsed)
    assert (TOKEN[:-4] + "XXXX").split(":", 1)[1] not in result.stderr


class PasswordPostgres(PostgresServer):
    """A throw-away cluster where role `bot` logs in over TCP with PASSWORD only."""

    def start(self) -> PasswordPostgres:
        super().start()
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(
                "CREATE ROLE bot LOGIN PASSWORD {}".format(
                    "'" + PASSWORD.replace("'", "''") + "'"
                ).encode()
            )
            connection.execute(b"CREATE DATABASE sechscluster OWNER bot")
        hba = self.data / "pg_hba.conf"
        rules = hba.read_text().splitlines()
        hba.write_text("host all bot 127.0.0.1/32 scram-sha-256\n" + "\n".join(rules) + "\n")
        self._run(self.pg_ctl, "-D", str(self.data), "reload")
        return self

    def bot_url(self, password: str) -> str:
        return f"postgresql://bot:{quote(password, safe='')}@127.0.0.1:{self.port}/sechscluster"


@pytest.fixture(scope="module")
def password_postgres() -> Iterator[PasswordPostgres]:
    try:
        server = PasswordPostgres().start()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL server programs here: {exc}")
    yield server
    server.stop()


def test_wrong_database_password_is_one_sentence_and_never_printed(
    password_postgres: PasswordPostgres, tmp_path: Path
) -> None:
    wrong = "Wr0ng@Pw%5:Zz/7"
    result = _run_bot(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, DATABASE_URL=password_postgres.bot_url(wrong)
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "Traceback" not in output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Cannot start: the database could not be opened or migrated")
    assert "password authentication failed" in result.stderr
    for leak in (wrong, quote(wrong, safe=""), "Wr0ng", "Zz"):
        assert leak not in output
    assert TOKEN_SECRET not in output


def test_unreachable_database_is_one_sentence_and_never_printed(tmp_path: Path) -> None:
    url = f"postgresql://bot:{quote(PASSWORD, safe='')}@127.0.0.1:{free_port()}/sechscluster"
    result = _run_bot(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, DATABASE_URL=url)
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "Traceback" not in output
    assert result.stderr.startswith("Cannot start: the database could not be opened or migrated")
    assert _leaks(output) == []


def test_password_with_percent_escapes_works_and_is_never_printed(
    password_postgres: PasswordPostgres, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    url = password_postgres.bot_url(PASSWORD)
    assert "%40" in url
    assert "%25" in url
    bot = BotProcess(emulator, url, tmp_path).start()  # it migrated and polls
    assert bot.alive()
    bot.stop()
    log = bot.log()
    assert "Running upgrade" in log
    assert bot.tracebacks_while_running() == []
    assert _leaks(log) == []


def test_a_password_only_in_dotenv_is_redacted_from_the_start(
    captured: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.__main__ import _configure_logging

    for key in list(os.environ):
        if key.startswith(("TELEGRAM_", "DATABASE_", "LOG_")):
            monkeypatch.delenv(key)
    logs.forget_secrets()
    url = f"postgresql://bot:{quote(PASSWORD, safe='')}@db:5432/sechscluster"
    (tmp_path / ".env").write_text(f"DATABASE_URL={url}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _configure_logging()  # what `python -m bot` and the offline commands do first
    logs.setup("text", stream=captured)  # the same handler, writing where the test reads
    logging.getLogger("bot").error("could not connect to %s (password %s)", url, PASSWORD)
    output = captured.getvalue()
    assert "could not connect to postgresql://bot:***@db:5432/sechscluster (password ***)" in output
    assert _leaks(output) == []
