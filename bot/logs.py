"""Logging for the bot process: one handler, one line per event, every known secret redacted.

Secrets (the bot token, the database password, the webhook secret) are registered once at start;
every record the handler writes — message, arguments, traceback — is redacted after formatting, so
a library that puts the token into an exception text (python-telegram-bot's `InvalidToken` does)
cannot leak it. The process-wide last resorts (uncaught exceptions in the main thread and in
threads, unraisable exceptions) go through the same handler; asyncio's default exception handler
logs to the `asyncio` logger and is covered by it as well.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from telegram.error import InvalidToken, TelegramError

REDACTED = "***"
# Shorter values are no secret worth the name, and redacting them would mangle every line.
MIN_SECRET_LENGTH = 4
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Passed with `extra=` by the update path; shown in text lines and as JSON fields.
CONTEXT_FIELDS = ("chat_id", "update_id")
_RAW_PASSWORD = re.compile(r"^[A-Za-z0-9+.-]+://[^:/@]*:(?P<password>.*)@[^@]*$")


class _Secrets:
    """The set of values never to print, and one pattern that finds any of them."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        variants = {value, quote(value, safe=""), quote(value, safe=" +"), quote_plus(value)}
        fresh = {v for v in variants if len(v) >= MIN_SECRET_LENGTH} - self._values
        if not fresh:
            return
        with self._lock:
            self._values |= fresh
            # longest first, so a secret containing another is replaced whole
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(REDACTED, text)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None


_secrets = _Secrets()


def add_secret(value: str | None) -> None:
    """Never print this value (nor its URL-encoded forms) from now on."""
    if value:
        _secrets.add(value)
        if re.fullmatch(r"\d+:.+", value):  # a bot token: its part after the bot id alone, too
            _secrets.add(value.split(":", 1)[1])


def add_database_url(url: str | URL | None) -> None:
    """Never print the password of this database URL, as given or as any library renders it."""
    if url is None:
        return
    if isinstance(url, str):
        written = _RAW_PASSWORD.match(url.strip())
        if written:
            add_secret(written["password"])
        try:
            url = make_url(url.strip())
        except ArgumentError:
            return
    if url.password is not None:
        add_secret(str(url.password))


def add_secrets_from_environment(environ: Mapping[str, str]) -> None:
    """Register the secrets the environment holds, before the settings are even parsed."""
    add_secret(environ.get("TELEGRAM_BOT_TOKEN", "").strip())
    add_secret(environ.get("WEBHOOK_SECRET"))
    add_database_url(environ.get("DATABASE_URL"))


def add_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        add_secret(value)


def redact(text: str) -> str:
    """The text with every registered secret replaced by ***."""
    return _secrets.redact(text)


def forget_secrets() -> None:
    """Tests only: start again with no registered secrets."""
    _secrets.clear()


def refused_token_sentence(error: InvalidToken) -> str:
    """One sentence for an operator whose token (or API address) Telegram refused."""
    cause = error.__cause__
    reason = str(cause if isinstance(cause, TelegramError) else error).strip()
    reason = redact(reason.splitlines()[0] if reason else "refused")[:200]
    return (
        f"Telegram refused the bot token ({reason}); check TELEGRAM_BOT_TOKEN and, "
        "if set, TELEGRAM_API_BASE_URL."
    )


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The record's traceback (none for a refused token: that gets one sentence at exit)."""
    if not record.exc_info or record.exc_info[1] is None:
        return ""
    if isinstance(record.exc_info[1], InvalidToken):
        return ""
    return formatter.formatException(record.exc_info)


def _message(record: logging.LogRecord) -> str:
    message = record.getMessage()
    if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
        reason = str(record.exc_info[1]).strip().splitlines() or ["refused"]
        message = f"{message} ({reason[0][:200]})"
    return message


class TextFormatter(logging.Formatter):
    """`time level logger: message chat_id=… update_id=…`, traceback below, secrets redacted."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = _message(record)
        line = f"{self.formatTime(record)} {record.levelname} {record.name}: {record.message}"
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        if context:
            line = f"{line} {context}"
        details = _exception_text(self, record)
        if details:
            line = f"{line}\n{details}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, chat_id, update_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(_message(record)),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                event[name] = value if isinstance(value, int) else redact(str(value))
        details = _exception_text(self, record)
        if details:
            event["exception"] = redact(details)
        if record.stack_info:
            event["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(event, ensure_ascii=False)


class _BotHandler(logging.StreamHandler):
    """The one handler `setup` installs on the root logger (found again by its type)."""


def setup(log_format: str = "text", stream: TextIO | None = None) -> None:
    """Log to stderr (or `stream`) through one redacting handler; install the last resorts."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _BotHandler)]:
        root.removeHandler(handler)
    handler = _BotHandler(stream if stream is not None else sys.stderr)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    use_format(log_format)
    logging.captureWarnings(True)
    # httpx logs request URLs, and a Bot API URL contains the token (redacted anyway)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    install_last_resort()


def use_format(log_format: str) -> None:
    """Switch the handler to `text` or `json` lines (anything else counts as text)."""
    formatter = JsonFormatter() if log_format.strip().lower() == "json" else TextFormatter()
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _BotHandler):
            handler.setFormatter(formatter)


def _installed() -> bool:
    return any(isinstance(h, _BotHandler) for h in logging.getLogger().handlers)


def _report(
    what: str,
    kind: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
) -> None:
    if _installed():
        logging.getLogger("bot").critical(what, exc_info=(kind, value, tb))
        return
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(redact(f"{what}\n{text}"))


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    if isinstance(value, InvalidToken):
        print(f"Cannot start: {refused_token_sentence(value)}", file=sys.stderr)
        return
    _report("stopped by an unexpected error", kind, value, tb)


def _thread_excepthook(arguments: threading.ExceptHookArgs) -> None:
    if arguments.exc_value is None or issubclass(arguments.exc_type, SystemExit):
        return
    name = arguments.thread.name if arguments.thread is not None else "a thread"
    _report(
        f"{name} stopped by an unexpected error",
        arguments.exc_type,
        arguments.exc_value,
        arguments.exc_traceback,
    )


def _unraisablehook(unraisable: Any) -> None:
    value = unraisable.exc_value
    if value is None:
        return
    what = unraisable.err_msg or "Exception ignored in"
    _report(f"{what}: {unraisable.object!r}", type(value), value, unraisable.exc_traceback)


def install_last_resort() -> None:
    """Route uncaught exceptions of the main thread, other threads and finalizers through
    the redacting handler (a refused token becomes one `Cannot start:` sentence)."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisablehook
