"""The end of a board: /review, /close, /reopen, /export."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.handlers import outputs
from bot.handlers.common import answer, require_board, scope_of
from bot.handlers.send import send_many
from bot.render import html
from bot.store import queries
from bot.store.tables import Board, utcnow


async def review(update: Update, context: Context) -> None:
    found = await require_board(update, context, moderator=True, latest=True)
    if found is None:
        return
    _, board = found
    model = context.bot_data.model(board.language)
    messages = context.bot_data.messages(board.language)
    with context.bot_data.session() as session:
        view = queries.board_view(session, board)
    await send_many(
        context, board.chat_id, board.thread_id, list(html.review(model, messages, view))
    )


async def close(update: Update, context: Context) -> None:
    found = await require_board(update, context, moderator=True, latest=True)
    if found is None:
        return
    message, board = found
    messages = context.bot_data.messages(board.language)
    if board.status != queries.OPEN:
        await answer(context, message, messages("close_already", title=board.title))
        return
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        stored.status = queries.CLOSED
        stored.closed_at = utcnow()
        session.commit()
    await answer(context, message, messages("close_done", title=stored.title))
    await outputs.post_final(context, stored)


async def reopen(update: Update, context: Context) -> None:
    found = await require_board(update, context, moderator=True, latest=True)
    if found is None:
        return
    message, board = found
    messages = context.bot_data.messages(board.language)
    if board.status == queries.OPEN:
        await answer(context, message, messages("reopen_nothing"))
        return
    scope = scope_of(message)
    with context.bot_data.session() as session:
        other = queries.open_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)
        if other is not None:
            await answer(context, message, messages("reopen_conflict", title=other.title))
            return
        stored = session.get(Board, board.id)
        assert stored is not None
        stored.status = queries.OPEN
        stored.closed_at = None
        session.commit()
    await answer(context, message, messages("reopen_done", title=board.title))


async def export(update: Update, context: Context) -> None:
    found = await require_board(update, context, latest=True)
    if found is None:
        return
    _, board = found
    with context.bot_data.session() as session:
        view = queries.board_view(session, board)
    await outputs.post_files(context, board.chat_id, board.thread_id, view)
