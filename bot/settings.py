"""Typed configuration from the environment (and an optional `.env`); refuses nonsense at start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

from bot.logs import LOG_FORMATS
from bot.model.catalogue import LANGUAGES
from bot.store.db import DatabaseUrlError, normalise_url

S = TypeVar("S", bound="DatabaseSettings")
TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
DEFAULT_DATABASE_FILE = "sechs-cluster-bot.sqlite3"

_LOCAL_HTTP = re.compile(r"^http://(127\.0\.0\.1|localhost)(:\d+)?(/[^\s?#]*)?$")


class SettingsError(Exception):
    """Start-up configuration is missing or malformed; the message is one clear sentence."""


class DatabaseSettings(BaseSettings):
    """Only the database: enough for the offline commands, which need no token."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}"
    )

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        try:
            normalise_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(f"DATABASE_URL {exc}") from exc
        return value

    @property
    def database(self) -> URL:
        return normalise_url(self.database_url)

    def secrets(self) -> list[str]:
        """Values that must never be printed (for the log redaction)."""
        password = self.database.password
        return [str(password)] if password else []


class Settings(DatabaseSettings):
    """Everything the bot reads from its environment (SPEC §8)."""

    telegram_bot_token: SecretStr
    telegram_api_base_url: str | None = None
    bot_language: str = "de"
    bot_timezone: str = "Europe/Berlin"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # loopback unless told otherwise: a proxy on the same host, or WEBHOOK_LISTEN=0.0.0.0 in a
    # container (deploy/compose.yaml says so explicitly)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # a separate /healthz and /metrics server, in either mode (the webhook port answers /healthz
    # only: /metrics is never beside a public webhook)
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_listen: str = "127.0.0.1"
    # the bot's own HTTP server in polling mode (/healthz, /metrics, the Mini App); HEALTH_PORT
    # and HEALTH_LISTEN are the older names of the same settings
    http_port: int | None = Field(default=None, ge=1, le=65535)
    http_listen: str | None = None
    # the Mini App (SPEC §13): the public HTTPS address of `/app/` and its short name at BotFather
    miniapp_url: str | None = None
    miniapp_short_name: str | None = None
    log_format: str = "text"
    reminder_sweep_seconds: float = Field(default=30.0, gt=0, le=60)
    # Telegram's flood limits; raise them only for a self-hosted Bot API server or tests
    telegram_messages_per_second: float = Field(default=30, gt=0)
    telegram_group_messages_per_minute: float = Field(default=20, gt=0)
    telegram_timeout_seconds: float = Field(default=15, gt=0, le=120)
    retention_days: int = Field(default=365, ge=1)
    # how long a process's claim on an unsent outbox row holds without its heartbeat: a
    # process killed with rows unsent has them taken over (or sent after a restart) after this
    outbox_lease_seconds: float = Field(default=30, gt=0, le=3600)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_PATTERN.fullmatch(value.get_secret_value().strip()):
            raise ValueError("TELEGRAM_BOT_TOKEN does not look like a token from BotFather")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("bot_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"BOT_LANGUAGE must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"BOT_TIMEZONE '{value}' is not an IANA time zone") from exc
        return value

    @field_validator("telegram_api_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^\s/]+", value.strip()):
            raise ValueError("must be an http(s) URL")
        return value.strip().rstrip("/")

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.strip().lower() not in LOG_FORMATS:
            raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        return value.strip().lower()

    @field_validator("miniapp_url")
    @classmethod
    def _miniapp_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # Telegram opens a Mini App only from an https address; http only on this computer
        # (the playground's stand-in, a developer's own browser)
        url = value.strip()
        if not (re.match(r"^https://[^\s/?#]+(/[^\s?#]*)?$", url) or _LOCAL_HTTP.match(url)):
            raise ValueError(
                "MINIAPP_URL must be an https URL without query or fragment "
                "(http only on 127.0.0.1 or localhost)"
            )
        return url

    @field_validator("miniapp_short_name")
    @classmethod
    def _miniapp_short_name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_]{3,30}", value.strip()):
            raise ValueError(
                "MINIAPP_SHORT_NAME must be the short name given to BotFather's /newapp "
                "(3 to 30 letters, digits or _)"
            )
        return value.strip()

    @field_validator("http_listen", mode="before")
    @classmethod
    def _http_listen(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("http_port", mode="before")
    @classmethod
    def _http_port(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("health_port", mode="before")
    @classmethod
    def _health_port(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError(
                "WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and - (1 to 256 characters)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET is required when WEBHOOK_URL is set (without it anyone who can "
                "reach the port can send forged updates); generate one with `openssl rand -hex 32`"
            )
        return self

    @model_validator(mode="after")
    def _miniapp_complete(self) -> Settings:
        if (self.miniapp_url is None) != (self.miniapp_short_name is None):
            raise ValueError(
                "MINIAPP_URL and MINIAPP_SHORT_NAME go together: set both to offer the Mini App, "
                "or neither"
            )
        return self

    @property
    def miniapp_enabled(self) -> bool:
        return self.miniapp_url is not None and self.miniapp_short_name is not None

    @property
    def server_port(self) -> int | None:
        """The polling mode's HTTP server port: HTTP_PORT, else its older name HEALTH_PORT."""
        return self.http_port if self.http_port is not None else self.health_port

    @property
    def server_listen(self) -> str:
        """The polling mode's HTTP server address: HTTP_LISTEN, else HEALTH_LISTEN."""
        return self.http_listen if self.http_listen is not None else self.health_listen

    def secrets(self) -> list[str]:
        """Values that must never be printed (for the log redaction)."""
        webhook = [self.webhook_secret.get_secret_value()] if self.webhook_secret else []
        return [self.telegram_bot_token.get_secret_value(), *webhook, *super().secrets()]

    @property
    def api_base_url(self) -> str | None:
        """The Bot API base for python-telegram-bot (`…/bot`), or None for Telegram's."""
        if self.telegram_api_base_url is None:
            return None
        base = self.telegram_api_base_url
        return base if base.endswith("/bot") else f"{base}/bot"

    @property
    def api_file_url(self) -> str | None:
        if self.api_base_url is None:
            return None
        return self.api_base_url.removesuffix("/bot") + "/file/bot"


_NAMES = {
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
    "telegram_api_base_url": "TELEGRAM_API_BASE_URL",
    "database_url": "DATABASE_URL",
    "bot_language": "BOT_LANGUAGE",
    "bot_timezone": "BOT_TIMEZONE",
    "webhook_url": "WEBHOOK_URL",
    "webhook_port": "WEBHOOK_PORT",
    "webhook_secret": "WEBHOOK_SECRET",
    "webhook_listen": "WEBHOOK_LISTEN",
    "health_port": "HEALTH_PORT",
    "health_listen": "HEALTH_LISTEN",
    "http_port": "HTTP_PORT",
    "http_listen": "HTTP_LISTEN",
    "miniapp_url": "MINIAPP_URL",
    "miniapp_short_name": "MINIAPP_SHORT_NAME",
    "log_format": "LOG_FORMAT",
    "reminder_sweep_seconds": "REMINDER_SWEEP_SECONDS",
    "retention_days": "RETENTION_DAYS",
}


def load_settings() -> Settings:
    """Read the settings or raise SettingsError with one sentence (never the token itself)."""
    return _load(Settings)


def load_database_settings() -> DatabaseSettings:
    """Read only DATABASE_URL, for the offline commands."""
    return _load(DatabaseSettings)


def _load(kind: type[S]) -> S:
    try:
        return kind()
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        name = _NAMES.get(field, field.upper())
        if first["type"] == "missing":
            raise SettingsError(
                f"{name} is not set; see README.md, section Configuration."
            ) from None
        message = str(first["msg"]).removeprefix("Value error, ")
        if name not in message:
            message = f"{name}: {message}"
        raise SettingsError(f"{message}.") from None
