"""Moderators move the group by tap: the area picker (`/area` without argument), the point
picker (`/point` without argument) and `Weiter ▶` under the newest card (= `/next`).

The moves themselves live here too, so a typed command and a tap do exactly the same.
"""

from __future__ import annotations

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import BotData
from bot.handlers.cards import point_of, queue_card
from bot.handlers.core.buttons import Press, button, on_press, whole_number
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.turn import Refusal
from bot.handlers.progress import queue_progress_message
from bot.model.board import BoardView, area_progress, next_step
from bot.model.catalogue import ModelText
from bot.store import boards as board_store
from bot.store import cards as card_store
from bot.store.tables import Board
from bot.texts import Html, Messages

AREAS_PER_ROW = 2


def area_picker(
    model: ModelText, messages: Messages, view: BoardView
) -> tuple[Html, InlineKeyboardMarkup]:
    """Six buttons, one per area, each with its filled/total count."""
    buttons = [
        button(
            messages.plain_format(
                "area_button",
                number=progress.area,
                name=model.area(progress.area).name,
                filled=progress.filled,
                total=progress.total,
            ),
            "area",
            view.id,
            progress.area,
        )
        for progress in area_progress(model, view)
    ]
    rows = [buttons[i : i + AREAS_PER_ROW] for i in range(0, len(buttons), AREAS_PER_ROW)]
    return messages("area_pick"), InlineKeyboardMarkup(rows)


def point_picker(
    model: ModelText, messages: Messages, view: BoardView, area_number: int
) -> tuple[Html, InlineKeyboardMarkup]:
    """The points of one area as buttons (filled ones marked), and a row to switch area."""
    area = model.area(area_number)
    empty = set(view.empty_points)
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                messages.plain_format(
                    "point_button_empty" if number in empty else "point_button_filled",
                    heading=model.point(number).heading,
                ),
                "pt",
                view.id,
                number,
            )
        ]
        for number in area.points
    ]
    rows.append(
        [
            button(
                f"· {other.number} ·" if other.number == area_number else str(other.number),
                "pa",
                view.id,
                other.number,
            )
            for other in model.areas
        ]
    )
    text = messages("point_pick", number=area.number, name=area.name)
    return text, InlineKeyboardMarkup(rows)


def open_area(session: Session, out: Outbox, data: BotData, board: Board, number: int) -> None:
    """Say which area is open now, post the card of its first point (and the status message,
    the first time)."""
    model = data.model(board.language)
    messages = data.messages(board.language)
    chosen = model.area(number)
    queue_progress_message(session, out, data, board)
    points = ", ".join(str(p) for p in chosen.points)
    out.post(messages("area_opened", number=number, name=chosen.name, points=points))
    queue_card(session, out, data, board, chosen.points[0], area=number)


def advance(session: Session, out: Outbox, data: BotData, board: Board) -> None:
    """`/next`: the next point of the area, after its last the next point without an Ist entry
    (wrapping, the area itself included); a change of area is said, and only an area without gaps
    is called filled."""
    model = data.model(board.language)
    messages = data.messages(board.language)
    view = board_store.board_view(session, board)
    step = next_step(model, view, board.current_area, board.current_point)
    if step is None:
        raise Refusal("next_all_filled")
    if step.opens_area:
        chosen = model.area(step.area)
        previous = model.area(board.current_area).name if board.current_area else "–"
        queue_progress_message(session, out, data, board)
        if step.left_area_filled:
            out.post(
                messages(
                    "next_area_opened", previous=previous, number=chosen.number, name=chosen.name
                )
            )
        else:
            out.post(messages("next_area_moved", number=chosen.number, name=chosen.name))
    queue_card(session, out, data, board, step.point, area=step.area)


def _area_of(press: Press) -> int:
    area = whole_number(press.button.argument)
    if area is None or not 1 <= area <= len(press.model.areas):
        raise Refusal("button_unknown")
    return area


@on_press("area", moderator=True)
def tap_area(press: Press) -> None:
    number = _area_of(press)
    open_area(press.session, press.out, press.data, press.board, number)
    press.tell("area_opened_notice", number=number)


@on_press("pt", moderator=True)
def tap_point(press: Press) -> None:
    queue_card(press.session, press.out, press.data, press.board, point_of(press))
    press.tell("card_posted_notice")


@on_press("pa", moderator=True)
def tap_picker_area(press: Press) -> None:
    """Show another area's points in the same picker message (edited in place)."""
    number = _area_of(press)
    view = board_store.board_view(press.session, press.board)
    text, markup = point_picker(press.model, press.messages, view, number)
    press.out.edit(press.message.message_id, text, markup)


@on_press("next", moderator=True)
def tap_next(press: Press) -> None:
    """`Weiter ▶`: only the newest card's button moves on (a double tap moves once)."""
    assert press.board.id is not None
    newest = card_store.newest_card(press.session, board_id=press.board.id)
    if newest is None or newest.message_id != press.message.message_id:
        press.tell("next_stale")
        return
    advance(press.session, press.out, press.data, press.board)
    press.tell("card_posted_notice")
