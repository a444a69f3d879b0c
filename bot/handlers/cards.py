"""Posting a card: the board's current point moves in the unit of work; the card is
remembered once Telegram has said which message it is."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Message

from bot.context import BotData, Context
from bot.handlers.outbox import Outbox, Step
from bot.render import html
from bot.store import queries
from bot.store.tables import Board


def queue_card(
    session: Session, out: Outbox, data: BotData, board: Board, point: int, area: int | None = None
) -> None:
    """Make `point` the board's current point and queue its card."""
    assert board.id is not None
    model = data.model(board.language)
    queries.set_current_point(
        session, board=board, point=point, area=area or model.area_of(point).number
    )
    board_id = board.id

    def remember(sent: Message) -> Step:
        async def step(context: Context) -> None:
            with context.bot_data.session() as follow_up:
                queries.add_card(
                    follow_up,
                    board_id=board_id,
                    point=point,
                    chat_id=sent.chat.id,
                    message_id=sent.message_id,
                )
                follow_up.commit()

        return step

    out.post(html.card(model, data.messages(board.language), point), then=remember)
