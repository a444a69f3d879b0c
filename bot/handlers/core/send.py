"""Talking to Telegram: sends that survive refusals, removals and migrations.

Flood limits (429) and brief outages are handled below this, for every request, by the rate
limiter in bot/ratelimit.py; what reaches here is final.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    InputPollOption,
    Message,
    ReactionTypeEmoji,
    ReplyParameters,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.context import BotData, Context
from bot.store import chats as chat_store
from bot.store.unit import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")
ReplyMarkup = InlineKeyboardMarkup | ForceReply

ACK_REACTION = "👍"


class ChatGone(Exception):
    """The bot may no longer post in this chat (removed, or the chat was deleted)."""


async def _mark_inactive(data: BotData, chat_id: int) -> None:
    def mark(unit: UnitOfWork) -> None:
        chat_store.set_chat_active(unit.session, chat_id=chat_id, active=False)
        unit.commit()

    await data.run_unit(chat_id, mark)
    data.active_chats.forget(chat_id)


async def _migrate(data: BotData, old_chat_id: int, new_chat_id: int) -> None:
    def follow(unit: UnitOfWork) -> None:
        chat_store.migrate_chat(unit.session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)
        unit.commit()

    await data.run_unit(old_chat_id, follow)
    log.info("chat %s migrated to %s", old_chat_id, new_chat_id)


async def _deliver(context: Context, chat_id: int, make: Callable[[int], Awaitable[T]]) -> T:
    """Run a send for a chat, following a migration once and marking a chat gone on 403."""
    try:
        return await make(chat_id)
    except ChatMigrated as exc:
        new_id = int(exc.new_chat_id)
        await _migrate(context.bot_data, chat_id, new_id)
        return await make(new_id)
    except Forbidden as exc:
        await _mark_inactive(context.bot_data, chat_id)
        raise ChatGone(str(exc)) from exc


def _thread(thread_id: int) -> int | None:
    return thread_id or None


async def send_html(
    context: Context,
    chat_id: int,
    thread_id: int,
    text: str,
    *,
    reply_to: int | None = None,
    markup: ReplyMarkup | None = None,
) -> Message:
    """Post one HTML message in the chat (and forum topic); raises ChatGone when removed."""
    reply = (
        ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        if reply_to is not None
        else None
    )

    async def make(target: int) -> Message:
        return await context.bot.send_message(
            chat_id=target,
            text=text,
            message_thread_id=_thread(thread_id),
            reply_parameters=reply,
            reply_markup=markup,
        )

    return await _deliver(context, chat_id, make)


async def send_many(
    context: Context, chat_id: int, thread_id: int, texts: list[str]
) -> list[Message]:
    """Post several messages in order."""
    return [await send_html(context, chat_id, thread_id, text) for text in texts]


async def send_photo(
    context: Context, chat_id: int, thread_id: int, photo: bytes, filename: str, caption: str
) -> Message:
    async def make(target: int) -> Message:
        return await context.bot.send_photo(
            chat_id=target,
            photo=InputFile(photo, filename=filename),
            caption=caption,
            message_thread_id=_thread(thread_id),
        )

    return await _deliver(context, chat_id, make)


async def send_document(
    context: Context, chat_id: int, thread_id: int, content: bytes, filename: str, caption: str
) -> Message:
    async def make(target: int) -> Message:
        return await context.bot.send_document(
            chat_id=target,
            document=InputFile(content, filename=filename),
            caption=caption,
            message_thread_id=_thread(thread_id),
        )

    return await _deliver(context, chat_id, make)


async def acknowledge(context: Context, chat_id: int, message_id: int) -> None:
    """React to a saved entry; if Telegram refuses, say nothing (SPEC §4)."""
    try:
        await context.bot.set_message_reaction(
            chat_id=chat_id, message_id=message_id, reaction=[ReactionTypeEmoji(ACK_REACTION)]
        )
    except Forbidden:
        await _mark_inactive(context.bot_data, chat_id)
    except (BadRequest, NetworkError, ChatMigrated, RetryAfter) as exc:
        log.info("reaction not set in %s: %s", chat_id, exc)


def _not_modified(exc: BadRequest) -> bool:
    return "not modified" in str(exc).lower()


async def edit_html(
    context: Context,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Replace a bot message's text (and buttons); False if it is gone or cannot be edited.

    Edits are best effort: a message deleted by someone, or an edit that changes nothing,
    is no failure of the update.
    """
    try:
        await context.bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=text, reply_markup=markup
        )
    except BadRequest as exc:
        if not _not_modified(exc):
            log.info("message %s in %s not edited: %s", message_id, chat_id, exc)
            return False
    except Forbidden:
        await _mark_inactive(context.bot_data, chat_id)
        return False
    except (NetworkError, ChatMigrated, RetryAfter) as exc:
        log.info("message %s in %s not edited: %s", message_id, chat_id, exc)
        return False
    return True


async def send_poll(
    context: Context, chat_id: int, thread_id: int, question: str, options: list[str]
) -> Message:
    """Post a poll that is not anonymous and allows several answers (a vote on the plan):
    the bot hears each person's choice as a `poll_answer`."""

    async def make(target: int) -> Message:
        return await context.bot.send_poll(
            chat_id=target,
            question=question,
            # plain text: a person's "<" in a measure is no tag (the app's default is HTML)
            options=[InputPollOption(option, text_parse_mode=None) for option in options],
            question_parse_mode=None,
            explanation_parse_mode=None,
            is_anonymous=False,
            allows_multiple_answers=True,
            message_thread_id=_thread(thread_id),
            api_kwargs={"parse_mode": None},  # sendPoll has none; the default would add it
        )

    return await _deliver(context, chat_id, make)


async def stop_poll(context: Context, chat_id: int, message_id: int) -> bool:
    """Close a poll of the bot's; False when Telegram refuses for good (closed already, the
    message deleted, the chat gone or upgraded). A flood limit or the network (RetryAfter,
    NetworkError, TimedOut) is raised after the pacing layer's retries: the caller tries
    again later, so the poll does not stay open in the chat."""
    try:
        await context.bot.stop_poll(chat_id=chat_id, message_id=message_id)
    except Forbidden:
        await _mark_inactive(context.bot_data, chat_id)
        return False
    except (BadRequest, ChatMigrated) as exc:  # BadRequest before NetworkError, its base
        log.info("poll %s in %s not stopped: %s", message_id, chat_id, exc)
        return False
    return True
