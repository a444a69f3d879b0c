"""Steps a team takes in the emulated group, with waits for the bot's answers."""

from __future__ import annotations

import html
import re

from bot.playground.emulator import Chat, Person, World
from bot.playground.emulator.model import StoredMessage
from tests.support import cards
from tests.support.harness import wait_until


class Team:
    """A group, its people, and helpers to act and to wait for the bot."""

    def __init__(self, world: World, chat: Chat, thread: int | None = None) -> None:
        self.world = world
        self.chat = chat
        self.thread = thread

    def refresh(self) -> None:
        """Follow the chat if it migrated."""
        current = self.world.chats[self.chat.id]
        while current.migrated_to is not None:
            current = self.world.chats[current.migrated_to]
        self.chat = current

    def bot_count(self) -> int:
        return len(self.world.bot_messages(self.chat, self.thread))

    def say(
        self, person: Person, text: str, *, reply_to: int | None = None, wait: bool = True
    ) -> StoredMessage:
        """Write a message and wait until the bot has answered with a new message."""
        before = self.bot_count()
        message = self.world.send(self.chat, person, text, reply_to=reply_to, thread=self.thread)
        if wait:
            wait_until(lambda: self.bot_count() > before, what=f"an answer to {text[:40]!r}")
        return message

    def last_text(self) -> str:
        return self.world.bot_texts(self.chat, self.thread)[-1]

    def texts_since(self, count: int) -> list[str]:
        return self.world.bot_texts(self.chat, self.thread)[count:]

    def card(self, number: int) -> StoredMessage:
        """The newest card of a point."""
        return cards.card(self.world, self.chat, number, self.thread)

    def open_card(self, moderator: Person, number: int) -> StoredMessage:
        self.say(moderator, f"/point {number}")
        wait_until(lambda: self.has_card(number), what=f"card {number}")
        return self.card(number)

    def has_card(self, number: int) -> bool:
        return cards.has_card(self.world, self.chat, number, self.thread)

    def wait_card(self, number: int) -> StoredMessage:
        wait_until(lambda: self.has_card(number), what=f"card {number}")
        return self.card(number)

    def entry(self, person: Person, text: str, *, reply_to: int | None = None) -> StoredMessage:
        """Write an entry and wait for the bot's reaction."""
        message = self.world.send(self.chat, person, text, reply_to=reply_to, thread=self.thread)
        wait_until(lambda: message.reactions == ["👍"], what=f"the reaction to {text[:40]!r}")
        return message


def plain(text: str) -> str:
    """What a person sees of a Telegram HTML message."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
