"""The `/status` message of a board: progress, then the schedule lines (reminder, and what
features add through bot/handlers/core/sections.py). Used by `/status` and by `/boards`' button."""

from __future__ import annotations

from sqlmodel import Session

from bot import clock
from bot.handlers.core.sections import STATUS_SECTIONS, lines_of
from bot.model.board import BoardStatus
from bot.model.catalogue import ModelText
from bot.render import html
from bot.render.when import next_reminder_line
from bot.store import boards as board_store
from bot.store.tables import Board
from bot.texts import Html, Messages


def status_text(session: Session, board: Board, messages: Messages, model: ModelText) -> Html:
    view = board_store.board_view(session, board)
    if board.status == BoardStatus.CLOSED:
        reminder = messages("status_reminder_closed")  # no reminder goes to a closed board
    elif view.is_complete:
        reminder = messages("status_reminder_complete")  # nor to a complete one
    elif board.remind_weekday is not None:
        reminder = next_reminder_line(messages, board.next_reminder_at, board.timezone)
    else:
        reminder = messages("status_reminder_off")
    extra = lines_of(STATUS_SECTIONS, session, board, messages, model, clock.now())
    schedule = Html("\n".join([reminder, *extra]))
    return html.status(model, messages, view, board.current_point, schedule)
