"""The Mini App's pieces without a bot: init data checked as Telegram documents it, the
settings that switch it on, the per-person limits, the page's size."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.miniapp.access import MemberCache, WriteLimit
from bot.miniapp.initdata import InitDataError, sign, verify
from bot.miniapp.server import WEB_DIR
from bot.model.catalogue import load_catalogue
from bot.render.hyphens import SOFT_HYPHEN, hyphenate
from bot.settings import SettingsError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
USER = json.dumps({"id": 42, "first_name": "Ünal", "language_code": "en"})


def _fields(**changes: str) -> dict[str, str]:
    fields = {
        "auth_date": str(int(NOW.timestamp())),
        "chat_instance": "-99",
        "chat_type": "supergroup",
        "start_param": "tok_en-123",
        "user": USER,
    }
    fields.update(changes)
    return fields


def test_init_data_signed_as_telegram_documents_it() -> None:
    # computed here from TELEGRAM.md's recipe, independently of the module under test
    fields = _fields()
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    raw = urlencode({**fields, "hash": digest})
    person = verify(raw, TOKEN, NOW)
    assert (person.id, person.first_name, person.language_code) == (42, "Ünal", "en")
    assert person.start_param == "tok_en-123"
    assert sign(fields, TOKEN) == raw


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        (sign(_fields(), "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"), "another bot"),
        (sign(_fields(), TOKEN).replace("tok_en-123", "other"), "changed after signing"),
        (sign(_fields(), TOKEN).replace("hash=", "hash=0"), "hash altered"),
        (sign(_fields(), TOKEN) + "&extra=1", "field added"),
        (sign(_fields(), TOKEN) + "&user=%7B%7D", "field repeated"),
        (
            sign(
                _fields(auth_date=str(int((NOW - timedelta(hours=24, seconds=1)).timestamp()))),
                TOKEN,
            ),
            "older than a day",
        ),
        (
            sign(_fields(auth_date=str(int((NOW + timedelta(hours=1)).timestamp()))), TOKEN),
            "from the future",
        ),
        (sign(_fields(auth_date="soon"), TOKEN), "no time"),
        (sign({k: v for k, v in _fields().items() if k != "user"}, TOKEN), "no user"),
        ("x" * 9000, "oversized"),
    ],
)
def test_init_data_refused(raw: str, why: str) -> None:
    with pytest.raises(InitDataError):
        verify(raw, TOKEN, NOW)


def test_a_day_old_init_data_still_counts() -> None:
    raw = sign(_fields(auth_date=str(int((NOW - timedelta(hours=23)).timestamp()))), TOKEN)
    assert verify(raw, TOKEN, NOW).id == 42


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith(
            ("TELEGRAM_", "DATABASE_", "BOT_", "WEBHOOK_", "HEALTH_", "HTTP_", "MINIAPP_", "LOG_")
        ):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    return monkeypatch


def test_http_port_with_the_older_health_names(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.server_port, settings.server_listen) == (None, "127.0.0.1")
    assert not settings.miniapp_enabled
    clean_env.setenv("HEALTH_PORT", "9090")
    clean_env.setenv("HEALTH_LISTEN", "0.0.0.0")
    assert (load_settings().server_port, load_settings().server_listen) == (9090, "0.0.0.0")
    clean_env.setenv("HTTP_PORT", "8081")
    clean_env.setenv("HTTP_LISTEN", "127.0.0.2")
    assert (load_settings().server_port, load_settings().server_listen) == (8081, "127.0.0.2")


def test_miniapp_settings_go_together(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MINIAPP_URL", "https://bot.example.com/app/")
    with pytest.raises(SettingsError, match="MINIAPP_SHORT_NAME"):
        load_settings()
    clean_env.setenv("MINIAPP_SHORT_NAME", "board")
    settings = load_settings()
    assert settings.miniapp_enabled
    clean_env.setenv("MINIAPP_SHORT_NAME", "no spaces")
    with pytest.raises(SettingsError, match="MINIAPP_SHORT_NAME"):
        load_settings()
    clean_env.setenv("MINIAPP_SHORT_NAME", "board")
    clean_env.setenv("MINIAPP_URL", "https://bot.example.com/app/?x=1")
    with pytest.raises(SettingsError, match="MINIAPP_URL"):
        load_settings()


def test_members_kept_a_minute_writes_limited_per_person(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("bot.miniapp.access.time.monotonic", lambda: clock[0])
    members = MemberCache()
    members.put(-1, 7, "member")
    assert members.get(-1, 7) == "member"
    clock[0] += 61
    assert members.get(-1, 7) is None
    limit = WriteLimit(per_minute=3)
    assert [limit.allow(7) for _ in range(4)] == [True, True, True, False]
    assert limit.allow(8)  # someone else
    clock[0] += 60
    assert limit.allow(7)


def test_the_page_is_small_plain_files_without_inline_script() -> None:
    files = sorted(p.name for p in WEB_DIR.iterdir())
    assert "index.html" in files
    assert "style.css" in files
    assert sum(p.stat().st_size for p in WEB_DIR.iterdir()) <= 150 * 1024
    page = (WEB_DIR / "index.html").read_text()
    # the CSP forbids inline script; scripts come from the page's own files and Telegram only
    assert "<script>" not in page
    assert "telegram.org/js/telegram-web-app.js" in page
    for script in WEB_DIR.glob("*.js"):
        assert "innerHTML" not in script.read_text(), script.name
        assert "insertAdjacentHTML" not in script.read_text(), script.name


@pytest.mark.parametrize(
    ("word", "broken"),
    [
        ("Kundenbedürfnisse", "Kun-den-be-dürf-nisse"),
        ("Konfiguration", "Kon-fi-gu-ra-tion"),
        ("Differenzierung", "Dif-fe-ren-zie-rung"),
        ("Komplexität", "Kom-ple-xi-tät"),  # "pl" begins a syllable
        ("Wertschöpfungskette", "Wert-schöp-fungs-kette"),  # "sch" is one sound
        ("Technologien", "Tech-no-lo-gien"),  # a vowel group is never split
        ("Mitarbeiter", "Mit-ar-bei-ter"),  # a compound's joint, named
        ("Datenaustausch", "Da-ten-aus-tausch"),
        ("Marke/Produkt/Dienstleistung", "Marke/Pro-dukt/Dienst-leis-tung"),
        ("Individualisation", "In-di-vi-dua-li-sa-tion"),
        ("Partnerships in the value chain", "Part-ner-ships in the value chain"),
        ("Data management", "Data man-age-ment"),
        ("Qualität und Zuverlässigkeit", "Qua-li-tät und Zu-ver-läs-sig-keit"),
        ("Sticky Kunde", "Sticky Kunde"),  # short words stay whole
    ],
)
def test_long_words_get_soft_hyphens_at_their_syllables(word: str, broken: str) -> None:
    assert hyphenate(word).replace(SOFT_HYPHEN, "-") == broken


def test_soft_hyphens_change_nothing_else_in_any_title_or_area() -> None:
    for language in ("de", "en"):
        model = load_catalogue()[language]
        for text in [a.name for a in model.areas] + [p.title for p in model.points]:
            shown = hyphenate(text)
            assert shown.replace(SOFT_HYPHEN, "") == text
            for word in shown.split():
                pieces = word.split(SOFT_HYPHEN)
                assert all(len(piece) >= 2 for piece in pieces), word
                assert len(pieces[-1]) >= 3 or len(pieces) == 1, word
