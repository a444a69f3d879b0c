"""Telling a person, once and in their board's language, that their update went wrong.

Used by the application's error handler (a handler failed) and by the pipeline when it sets an
update aside that cannot even be parsed (then only the update's raw JSON is known).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram.constants import ChatType
from telegram.ext import Application, CallbackContext

from bot.context import BotData, Context
from bot.handlers.core.send import send_html
from bot.store import boards as board_store
from bot.store.unit import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Where:
    """Where the failed update came from."""

    chat_id: int
    thread_id: int
    chat_type: str
    message_id: int | None  # the person's message, answered as a reply
    person_language: str  # two letters, or ""


def language_of(unit: UnitOfWork, data: BotData, where: Where) -> str:
    """The language of the board there, else the person's in a private chat, else the default."""
    board = board_store.latest_board(unit.session, chat_id=where.chat_id, thread_id=where.thread_id)
    if board is not None:
        return board.language
    private = where.chat_type == ChatType.PRIVATE
    if private and where.person_language in data.texts.languages:
        return where.person_language
    return data.settings.bot_language


async def tell(context: Context, where: Where) -> None:
    """Say "something went wrong" there (never raises)."""
    data = context.bot_data
    try:
        language = await data.run_unit(where.chat_id, lambda unit: language_of(unit, data, where))
        await send_html(
            context,
            where.chat_id,
            where.thread_id,
            data.messages(language)("unknown_error"),
            reply_to=where.message_id,
        )
    except Exception as exc:  # the one who tells must never fail the caller
        log.warning(
            "could not tell of a failed update in %s: %s", where.chat_id, type(exc).__name__
        )


def where_of_raw(raw: dict[str, Any]) -> Where | None:
    """Where an update came from, read from its JSON (for one that cannot be parsed)."""
    for key, value in raw.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        message = value.get("message") if key == "callback_query" else value
        if not isinstance(message, dict):
            return None
        chat = message.get("chat")
        if not isinstance(chat, dict) or not isinstance(chat.get("id"), int):
            return None
        sender = value.get("from") or {}
        language = sender.get("language_code") if isinstance(sender, dict) else None
        thread = message.get("message_thread_id") if message.get("is_topic_message") else None
        message_id = message.get("message_id") if key != "callback_query" else None
        return Where(
            chat_id=chat["id"],
            thread_id=thread if isinstance(thread, int) else 0,
            chat_type=str(chat.get("type") or ""),
            message_id=message_id if isinstance(message_id, int) else None,
            person_language=str(language or "")[:2].casefold(),
        )
    return None


def set_aside_notice(application: Application[Any, Any, Any, Any, Any, Any]) -> Any:
    """The pipeline's hook for an update set aside unparsed: tell its person, once."""

    async def notice(raw: dict[str, Any]) -> None:
        where = where_of_raw(raw)
        if where is not None:
            await tell(CallbackContext(application), where)

    return notice
