"""The end of a board: /review, /close, /reopen, /export."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.context import Context
from bot.handlers import outputs
from bot.handlers.common import (
    answer,
    find_latest_board,
    is_moderator,
    messages_for,
    scope_of,
)
from bot.handlers.send import ChatGone, send_many
from bot.render import html
from bot.store import queries
from bot.store.tables import Board, utcnow


async def review(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    board = find_latest_board(context, scope) if scope.is_group else None
    messages = messages_for(context, board, message)
    if board is None:
        await answer(context, message, messages("group_only" if not scope.is_group else "no_board"))
        return
    if not await is_moderator(context, message, board):
        await answer(context, message, messages("not_moderator"))
        return
    model = context.bot_data.model(board.language)
    with context.bot_data.session() as session:
        view = queries.board_view(session, board)
    try:
        await send_many(
            context, board.chat_id, board.thread_id, list(html.review(model, messages, view))
        )
    except ChatGone:
        return


async def close(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    board = find_latest_board(context, scope) if scope.is_group else None
    messages = messages_for(context, board, message)
    if board is None:
        await answer(context, message, messages("group_only" if not scope.is_group else "no_board"))
        return
    if not await is_moderator(context, message, board):
        await answer(context, message, messages("not_moderator"))
        return
    if board.status != queries.OPEN:
        await answer(context, message, messages("close_already", title=board.title))
        return
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        stored.status = queries.CLOSED
        stored.closed_at = utcnow()
        session.commit()
        board = stored
    try:
        await answer(context, message, messages("close_done", title=board.title))
        await outputs.post_final(context, board)
    except ChatGone:
        return


async def reopen(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    board = find_latest_board(context, scope) if scope.is_group else None
    messages = messages_for(context, board, message)
    if not scope.is_group:
        await answer(context, message, messages("group_only"))
        return
    if board is None or board.status == queries.OPEN:
        await answer(context, message, messages("reopen_nothing"))
        return
    if not await is_moderator(context, message, board):
        await answer(context, message, messages("not_moderator"))
        return
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
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    board = find_latest_board(context, scope) if scope.is_group else None
    if board is None:
        messages = messages_for(context, None, message)
        key = "group_only" if message.chat.type == ChatType.PRIVATE else "no_board"
        await answer(context, message, messages(key))
        return
    with context.bot_data.session() as session:
        view = queries.board_view(session, board)
    try:
        await outputs.post_files(context, board.chat_id, board.thread_id, view)
    except ChatGone:
        return
