"""The weekly reminder: the empty points grouped by area, each linked to its latest card."""

from __future__ import annotations

from collections.abc import Mapping

from bot.model.board import BoardView
from bot.model.catalogue import ModelText
from bot.render.split import pack
from bot.texts import Html, Messages, escape


def card_link(chat_id: int, thread_id: int, message_id: int) -> str | None:
    """A t.me/c link to a message in a supergroup; basic groups have none."""
    text = str(chat_id)
    if not text.startswith("-100"):
        return None
    internal = text[4:]
    if thread_id:
        return f"https://t.me/c/{internal}/{thread_id}/{message_id}"
    return f"https://t.me/c/{internal}/{message_id}"


def reminder_text(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    cards: Mapping[int, tuple[int, int]],
    thread_id: int,
) -> list[Html]:
    """The reminder; `cards` maps a point to (chat id, message id) of its latest card."""
    empty = set(view.empty_points)
    blocks: list[Html] = [
        messages("reminder_title", title=view.title, count=len(empty), total=view.point_count)
    ]
    for area in model.areas:
        points = [p for p in area.points if p in empty]
        if not points:
            continue
        lines = [f"\n<b>{area.number}. {escape(area.name)}</b>"]
        for number in points:
            heading = model.point(number).heading
            card = cards.get(number)
            link = card_link(card[0], thread_id, card[1]) if card is not None else None
            if link is not None:
                lines.append("• " + messages("reminder_point_link", link=link, point=heading))
            else:
                lines.append(f"• {escape(heading)}")
        blocks.append(Html("\n".join(lines)))
    blocks.append(Html("\n" + messages("reminder_how")))
    return pack(blocks)
