"""A person's language for what only they read (a press's notice, /forgetme, the welcome): their
Telegram app's if the bot speaks it, else BOT_LANGUAGE — never a language written into code."""

from __future__ import annotations

from sqlalchemy import create_engine

from bot.context import BotData
from bot.settings import Settings
from tests.support.fakes import CATALOGUE, TEXTS


def _data(bot_language: str) -> BotData:
    data = BotData()
    settings = Settings(
        telegram_bot_token="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
        bot_language=bot_language,
    )
    data.configure(
        settings=settings, engine=create_engine("sqlite://"), catalogue=CATALOGUE, texts=TEXTS
    )
    return data


def test_the_person_s_language_when_the_bot_speaks_it() -> None:
    data = _data("de")
    assert data.messages_for("en-GB").language == "en"
    assert data.messages_for("DE").language == "de"


def test_else_bot_language_not_german_by_default() -> None:
    data = _data("en")
    assert data.messages_for("fr").language == "en"
    assert data.messages_for(None).language == "en"
    assert data.messages_for("").language == "en"
    assert _data("de").messages_for("fr").language == "de"
