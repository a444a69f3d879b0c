"""The end of a board: /review, /close, /reopen, /export."""

from __future__ import annotations

import logging

from telegram.error import TelegramError

from bot.context import Context
from bot.handlers.outbox import Outbox
from bot.handlers.outputs import claim_output, queue_files, queue_final
from bot.handlers.send import ChatGone, send_html
from bot.handlers.turn import Need, Refusal, Turn, handles
from bot.model.board import BoardStatus
from bot.render import html
from bot.store import queries

log = logging.getLogger(__name__)


@handles(board=Need.LATEST)
def review(turn: Turn) -> None:
    """The team's shared look at the board (anyone may ask)."""
    view = queries.board_view(turn.session, turn.open_board)
    for text in html.review(turn.model, turn.messages, view):
        turn.out.post(text)


@handles(board=Need.LATEST, moderator=True)
def close(turn: Turn) -> None:
    board = turn.open_board
    if board.status != BoardStatus.OPEN:
        raise Refusal("close_already", title=board.title)
    queries.close_board(turn.session, board=board)
    turn.answer("close_done", title=board.title)
    final = Outbox(turn.out.chat_id, turn.out.thread_id)
    queue_final(final, queries.board_view(turn.session, board), zone=board.timezone)
    failed = turn.messages("close_post_failed", title=board.title)
    chat, thread = turn.out.chat_id, turn.out.thread_id

    async def post_final(context: Context) -> None:
        # the board is closed either way; if the final post fails, say where to get it
        try:
            await final.deliver(context)
        except ChatGone:
            raise
        except (TelegramError, OSError) as exc:
            log.warning("final board of %s not posted: %s", chat, exc)
            await send_html(context, chat, thread, failed)

    turn.out.then(post_final)


@handles(board=Need.LATEST, moderator=True)
def reopen(turn: Turn) -> None:
    board = turn.open_board
    if board.status == BoardStatus.OPEN:
        raise Refusal("reopen_nothing")
    try:
        queries.reopen_board(turn.session, board=board)
    except queries.BoardAlreadyOpen:
        other = queries.open_board(turn.session, chat_id=board.chat_id, thread_id=board.thread_id)
        raise Refusal("reopen_conflict", title=other.title if other else "") from None
    turn.answer("reopen_done", title=board.title)


@handles(board=Need.LATEST)
def export(turn: Turn) -> None:
    view = queries.board_view(turn.session, turn.open_board)
    if not claim_output(turn, "export", view.fingerprint()):
        return
    queue_files(turn.out, view, zone=turn.open_board.timezone)
