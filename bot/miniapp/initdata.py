"""Checking a Mini App's init data exactly as Telegram documents it (../shared/TELEGRAM.md).

`secret = HMAC_SHA256(key="WebAppData", msg=<bot token>)`; `hash = hex(HMAC_SHA256(key=secret,
msg=<the other fields sorted by name, "key=value", joined by "\\n">))`. Compared in constant
time; `auth_date` at most a day old.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

MAX_AGE = timedelta(hours=24)
MAX_LENGTH = 8192  # Telegram's init data is a few hundred characters; anything huge is not it
CLOCK_SKEW = timedelta(minutes=5)  # an auth_date slightly in the future (clocks differ)


class InitDataError(Exception):
    """Not init data signed for this bot within the last day (the reason is for the log only)."""


@dataclass(frozen=True)
class WebAppUser:
    """Who opened the app, as Telegram signed it."""

    id: int
    first_name: str
    language_code: str
    start_param: str | None


def _secret(token: str) -> bytes:
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def sign(fields: dict[str, str], token: str) -> str:
    """Init data for `fields`, signed as Telegram signs it (for tests and the playground)."""
    digest = hmac.new(_secret(token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def verify(raw: str, token: str, now: datetime) -> WebAppUser:
    """The person in `raw` if Telegram signed it for this bot less than a day ago."""
    if not raw or len(raw) > MAX_LENGTH:
        raise InitDataError("missing or oversized")
    pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False)
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("a field appears twice")
    given = fields.pop("hash", "")
    expected = hmac.new(_secret(token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InitDataError("hash does not match")
    try:
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
    except (KeyError, ValueError, OverflowError, OSError) as exc:
        raise InitDataError("no auth_date") from exc
    if now - signed_at > MAX_AGE or signed_at - now > CLOCK_SKEW:
        raise InitDataError("auth_date too old")
    try:
        user = json.loads(fields["user"])
        person = WebAppUser(
            id=int(user["id"]),
            first_name=str(user.get("first_name") or ""),
            language_code=str(user.get("language_code") or ""),
            start_param=fields.get("start_param") or None,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InitDataError("no user") from exc
    return person
