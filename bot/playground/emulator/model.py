"""The emulated Telegram's things: people, chats, their messages, faults and the bot's requests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.playground.emulator.telegram_html import utf16_length

BOT_ID = 7000000001
BOT_USERNAME = "SechsClusterTestBot"
TOKEN = f"{BOT_ID}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class ApiError(Exception):
    """A refusal as Telegram sends it."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


class DropConnection(Exception):
    """Close the connection without answering (an outage as the client sees it)."""


@dataclass
class Person:
    id: int
    first_name: str
    language_code: str = "de"
    is_bot: bool = False
    username: str | None = None
    last_name: str | None = None

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_bot:
            data["username"] = f"{self.first_name}Bot"
        elif self.username:
            data["username"] = self.username
        return data


BOT = Person(BOT_ID, "Sechs-Cluster-Bot", language_code="", is_bot=True)


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    sender: Person | None
    date: int
    text: str | None = None
    caption: str | None = None
    reply_to: int | None = None
    thread_id: int | None = None
    kind: str = "text"
    file_name: str | None = None
    file_bytes: bytes | None = None
    parse_mode: str | None = None
    reactions: list[str] = field(default_factory=list)
    delivered: bool = False
    sender_chat: dict[str, Any] | None = None
    service: dict[str, Any] | None = None
    edited: bool = False
    reply_markup: dict[str, Any] | None = None
    edits: int = 0  # how often the bot edited it (text or markup)


@dataclass
class Chat:
    id: int
    type: str
    title: str
    owner: Person | None = None
    admins: set[int] = field(default_factory=set)
    is_forum: bool = False
    bot_member: bool = True
    migrated_to: int | None = None
    reactions_enabled: bool = True
    can_send: bool = True
    bot_admin: bool = False  # the bot is an administrator (chat_member updates, its rights)
    bot_can_pin: bool = True  # as an administrator: the right to pin
    # the chat's permissions let every member pin (Telegram's default for a new group)
    members_can_pin: bool = True
    topics: set[int] = field(default_factory=set)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_id: int = 1
    removed: set[int] = field(default_factory=set)  # people removed from the group (kicked)

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.title
        else:
            data["title"] = self.title
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class Fault:
    """Refuse the next `count` calls of `method` ("*" for any) in one way.

    With `chat_id`, only calls for that chat; a "429" for one chat then floods it as Telegram
    does: every post to it is answered 429 until `retry_after` seconds have passed.
    """

    method: str
    kind: str  # "429", "500", "502", "drop", "timeout"
    count: int = 1
    retry_after: int = 1
    delay: float = 0.0
    chat_id: int | None = None


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    status: int
    description: str = ""


COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")


def command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks `/word` or `/word@bot` at the start as a bot command."""
    match = COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group(0))}]
