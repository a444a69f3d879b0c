"""Reading an update: where it belongs, who wrote it, what a command says."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message
from telegram.constants import ChatType


@dataclass(frozen=True)
class Scope:
    """Where an update belongs: a chat and, in forum supergroups, a topic (0 = none)."""

    chat_id: int
    thread_id: int
    chat_type: str

    @property
    def is_group(self) -> bool:
        return self.chat_type in (ChatType.GROUP, ChatType.SUPERGROUP)

    @property
    def is_private(self) -> bool:
        return self.chat_type == ChatType.PRIVATE


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
    language_code: str = ""

    @property
    def language(self) -> str:
        """The two-letter language of the person's Telegram app, if it told us."""
        return self.language_code[:2].casefold()


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
    return Person(user.id, name or str(user.id), user.language_code or "")


def message_text(message: Message) -> str | None:
    """The text of a message, or its caption for a photo or document."""
    return message.text if message.text is not None else message.caption


def command_word(message: Message) -> str | None:
    """The command a message starts with (without `/` and `@BotName`), lower case."""
    text = message_text(message) or ""
    if not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:].split("@", 1)[0].casefold()


def command_arguments(message: Message) -> str:
    """Everything after the command word, with line breaks kept (context.args would lose them)."""
    text = message_text(message) or ""
    parts = text.split(maxsplit=1)
    if len(parts) < 2:
        return ""
    # keep the text exactly after the first run of white space
    return text[len(parts[0]) :].lstrip(" \t\n\r")
