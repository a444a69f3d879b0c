"""The bot's point cards in a chat as the team sees them: find them, count them, read their buttons.

One vocabulary for every depth: the in-process tests call these with the world and the group,
`scenario.Team` calls them for its chat and topic.
"""

from __future__ import annotations

import re

from bot.playground.emulator import Chat, World
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.model import StoredMessage

# a card begins with its point's heading and its area: "<b>6. Konfiguration</b> · Bereich 2: …"
_CARD = re.compile(r"<b>(\d+)\. [^<]*</b> · ")


def cards(world: World, chat: Chat, thread: int | None = None) -> list[StoredMessage]:
    """The bot's cards in the chat, oldest first."""
    return [m for m in world.bot_messages(chat, thread) if _CARD.match(m.text or "")]


def _number(card: StoredMessage) -> int:
    found = _CARD.match(card.text or "")
    assert found is not None, "not a card"
    return int(found.group(1))


def card_numbers(world: World, chat: Chat, thread: int | None = None) -> list[int]:
    """The points of the bot's cards in the chat, in the order they were posted."""
    return [_number(c) for c in cards(world, chat, thread)]


def cards_of(
    world: World, chat: Chat, number: int, thread: int | None = None
) -> list[StoredMessage]:
    """Every card the bot posted of one point, oldest first."""
    return [c for c in cards(world, chat, thread) if _number(c) == number]


def has_card(world: World, chat: Chat, number: int, thread: int | None = None) -> bool:
    return bool(cards_of(world, chat, number, thread))


def card(world: World, chat: Chat, number: int, thread: int | None = None) -> StoredMessage:
    """The newest card of a point."""
    found = cards_of(world, chat, number, thread)
    assert found, f"no card of point {number}"
    return found[-1]


def labels(message: StoredMessage) -> list[str]:
    """The texts of a message's buttons, row by row."""
    return [str(b.get("text", "")) for b in buttons_of(message.reply_markup)]


def last(world: World, chat: Chat, thread: int | None = None) -> StoredMessage:
    """The bot's newest message in the chat."""
    return world.bot_messages(chat, thread)[-1]
