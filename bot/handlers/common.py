"""Helpers every feature handler shares: where an update belongs, who may do what, answering."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.context import Context
from bot.handlers.send import send_html
from bot.store import queries
from bot.store.tables import Board
from bot.texts import Messages

log = logging.getLogger(__name__)

T = TypeVar("T")
ANONYMOUS_ADMIN_ID = 1087968824  # Telegram's GroupAnonymousBot


@dataclass(frozen=True)
class Scope:
    """Where an update belongs: a chat and, in forum supergroups, a topic (0 = none)."""

    chat_id: int
    thread_id: int
    chat_type: str

    @property
    def is_group(self) -> bool:
        return self.chat_type in (ChatType.GROUP, ChatType.SUPERGROUP)


def scope_of(message: Message) -> Scope:
    thread = (
        message.message_thread_id if message.is_topic_message and message.message_thread_id else 0
    )
    return Scope(message.chat.id, thread, message.chat.type)


@dataclass(frozen=True)
class Person:
    """Who wrote a message, as an entry records it."""

    id: int
    name: str


def person_of(message: Message) -> Person | None:
    """The author of a message, or None for other bots and channels (their posts are no entries)."""
    sender_chat = message.sender_chat
    if sender_chat is not None:
        if sender_chat.id == message.chat.id:  # an anonymous administrator of this group
            return Person(sender_chat.id, sender_chat.title or "Admin")
        return None
    user = message.from_user
    if user is None or user.is_bot:
        return None
    name = (user.first_name or user.username or str(user.id)).replace("\x00", "")
    return Person(user.id, name or str(user.id))


def language_for(context: Context, board: Board | None, message: Message | None = None) -> str:
    """The board's language, else the person's (if we have it), else the default."""
    if board is not None:
        return board.language
    settings = context.bot_data.settings
    user = message.from_user if message is not None else None
    code = (user.language_code or "")[:2] if user is not None else ""
    if message is not None and message.chat.type == ChatType.PRIVATE and code in ("de", "en"):
        return code
    return settings.bot_language


def messages_for(context: Context, board: Board | None, message: Message | None = None) -> Messages:
    return context.bot_data.messages(language_for(context, board, message))


async def answer(context: Context, message: Message, text: str) -> Message:
    """Answer a person's message in its chat and topic, as a reply."""
    scope = scope_of(message)
    return await send_html(
        context, scope.chat_id, scope.thread_id, text, reply_to=message.message_id
    )


async def is_moderator(context: Context, message: Message, board: Board | None) -> bool:
    """Creator and administrators of the group, and whoever created the board."""
    chat: Chat = message.chat
    if chat.type == ChatType.PRIVATE:
        return True
    person = person_of(message)
    if person is None:
        return False
    if person.id == chat.id:  # anonymous administrator
        return True
    if board is not None and board.created_by == person.id:
        return True
    cache = context.bot_data.admins
    admins = cache.get(chat.id)
    if admins is None:
        try:
            members = await context.bot.get_chat_administrators(chat.id)
        except TelegramError as exc:
            log.warning("could not ask for the administrators of %s: %s", chat.id, exc)
            return False
        admins = frozenset(
            m.user.id
            for m in members
            if m.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
        )
        cache.put(chat.id, admins)
    return person.id in admins


def find_open_board(context: Context, scope: Scope) -> Board | None:
    with context.bot_data.session() as session:
        return queries.open_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)


def find_latest_board(context: Context, scope: Scope) -> Board | None:
    with context.bot_data.session() as session:
        return queries.latest_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)


def command_arguments(message: Message) -> str:
    """Everything after the command word, with line breaks kept (context.args would lose them)."""
    text = message.text or message.caption or ""
    parts = text.split(maxsplit=1)
    if len(parts) < 2:
        return ""
    # keep the text exactly after the first run of white space
    first = parts[0]
    return text[len(first) :].lstrip(" \t\n\r")


def note_chat(context: Context, update: Update) -> None:
    """Remember the chat (and that the bot is in it) whenever it speaks to the bot."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    with context.bot_data.session() as session:
        queries.remember_chat(
            session,
            chat_id=chat.id,
            kind=chat.type,
            title=chat.title or "",
            is_forum=bool(chat.is_forum),
        )
        session.commit()


async def require_board(
    update: Update, context: Context, *, moderator: bool = False, latest: bool = False
) -> tuple[Message, Board] | None:
    """The board a command is about, or None after answering why there is none.

    Group chats only; the open board of the chat and topic (or with `latest`, the most recent
    closed one when none is open); with `moderator`, only for moderators.
    """
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    if not scope.is_group:
        await answer(context, message, messages_for(context, None, message)("group_only"))
        return None
    board = find_latest_board(context, scope) if latest else find_open_board(context, scope)
    messages = messages_for(context, board, message)
    if board is None:
        await answer(context, message, messages("no_board"))
        return None
    if moderator and not await is_moderator(context, message, board):
        await answer(context, message, messages("not_moderator"))
        return None
    return message, board


async def parse_argument(
    context: Context,
    message: Message,
    messages: Messages,
    parse: Callable[[str], T | None],
    *,
    usage: str,
    unknown: str,
) -> T | None:
    """The command's argument read by `parse`, or None after answering with `usage`/`unknown`."""
    argument = command_arguments(message).strip()
    if not argument:
        await answer(context, message, messages(usage))
        return None
    value = parse(argument)
    if value is None:
        await answer(context, message, messages(unknown, given=argument[:60]))
    return value
