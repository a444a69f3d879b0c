"""Start-up configuration: clear sentences for missing or malformed values, token never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith(("TELEGRAM_", "DATABASE_", "BOT_", "WEBHOOK_", "HEALTH_", "LOG_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.bot_language == "de"
    assert settings.bot_timezone == "Europe/Berlin"
    assert settings.database.drivername == "sqlite+pysqlite"
    assert settings.database.database == str(tmp_path / "sechs-cluster-bot.sqlite3")
    assert settings.api_base_url is None
    assert settings.health_port is None
    assert settings.health_listen == "127.0.0.1"
    assert settings.log_format == "text"
    assert settings.webhook_listen == "127.0.0.1"  # not every interface unless told
    assert TOKEN not in repr(settings)


def test_operations_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HEALTH_PORT", "9090")
    monkeypatch.setenv("HEALTH_LISTEN", "0.0.0.0")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-webhook-value")
    monkeypatch.setenv("WEBHOOK_LISTEN", "0.0.0.0")
    settings = load_settings()
    assert settings.health_port == 9090
    assert settings.health_listen == "0.0.0.0"
    assert settings.log_format == "json"
    assert settings.webhook_url == "https://bot.example.com"
    assert settings.webhook_listen == "0.0.0.0"


def test_empty_health_port_means_no_health_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HEALTH_PORT", "")
    assert load_settings().health_port is None


def test_secrets_are_token_webhook_secret_and_database_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-webhook-value")
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:p%40ss%25word@db/sechscluster")
    settings = load_settings()
    assert settings.secrets() == [TOKEN, "s3cret-webhook-value", "p@ss%word"]
    assert settings.database.password == "p@ss%word"


def test_api_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/")
    assert load_settings().api_base_url == "http://127.0.0.1:8081/bot"


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "nonsense"}, "does not look like a token"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://x@y/z"},
            "DATABASE_URL uses 'mysql'",
        ),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "::"}, "DATABASE_URL is not a database URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_LANGUAGE": "fr"}, "BOT_LANGUAGE must be one of"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_TIMEZONE": "Mars/Base"}, "BOT_TIMEZONE 'Mars/Base'"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "ftp://x"},
            "TELEGRAM_API_BASE_URL",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.com"},
            "WEBHOOK_SECRET is required when WEBHOOK_URL is set",
        ),
        (
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "WEBHOOK_URL": "https://bot.example.com",
                "WEBHOOK_SECRET": " ",
            },
            "WEBHOOK_SECRET is required when WEBHOOK_URL is set",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_FORMAT": "xml"},
            "LOG_FORMAT must be one of text, json",
        ),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "HEALTH_PORT": "70000"}, "HEALTH_PORT"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "HEALTH_PORT": "metrics"}, "HEALTH_PORT"),
    ],
)
def test_bad_configuration_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], sentence: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert sentence in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TELEGRAM_BOT_TOKEN": TOKEN[:-3] + "!!!"},
        {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "oracle://u@h/db"},
        {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.com"},
    ],
)
def test_python_m_bot_stops_with_one_line_and_no_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "HEALTH_", "LOG_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**clean, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("Cannot start:")
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0" not in result.stderr + result.stdout
