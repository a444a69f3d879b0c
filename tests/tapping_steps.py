"""What a team does with the bot's buttons in the in-process tests: find cards, tap, answer."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from bot.playground.emulator import Chat, World
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.model import StoredMessage
from bot.store.tables import Board, Entry
from tests.inprocess import InProcessBot

_CARD = re.compile(r"<b>(\d+)\. ")


def cards(world: World, group: Chat) -> list[StoredMessage]:
    """The bot's cards in the group, oldest first."""
    return [m for m in world.bot_messages(group) if _CARD.match(m.text or "")]


def card_numbers(world: World, group: Chat) -> list[int]:
    """The points of the bot's cards in the group, in the order they were posted."""
    return [int(m.group(1)) for c in cards(world, group) if (m := _CARD.match(c.text or ""))]


def card(world: World, group: Chat, number: int) -> StoredMessage:
    """The newest card of a point."""
    found = [m for m in cards(world, group) if (m.text or "").startswith(f"<b>{number}. ")]
    assert found, f"no card of point {number}"
    return found[-1]


def labels(message: StoredMessage) -> list[str]:
    return [str(b.get("text", "")) for b in buttons_of(message.reply_markup)]


def last(world: World, group: Chat) -> StoredMessage:
    return world.bot_messages(group)[-1]


def stored_entries(bot: InProcessBot) -> list[tuple[int, str, str, str]]:
    """Live entries: (point, kind, text, author)."""
    with Session(bot.engine) as session:
        rows = session.exec(select(Entry).order_by(Entry.id)).all()  # type: ignore[arg-type]
        return [(e.point, e.kind, e.text, e.author_name) for e in rows if e.removed_at is None]


def board_row(bot: InProcessBot) -> Board:
    with Session(bot.engine) as session:
        board = session.exec(select(Board).order_by(Board.id.desc())).first()  # type: ignore[union-attr]
        assert board is not None
        return board


def board_titled(bot: InProcessBot, title: str) -> Board:
    with Session(bot.engine) as session:
        return session.exec(select(Board).where(Board.title == title)).one()
