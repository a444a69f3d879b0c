"""Explaining the bot: /start, /help, /example, /demo."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.context import Context
from bot.handlers import outputs
from bot.handlers.common import answer, command_arguments, find_latest_board, messages_for, scope_of
from bot.handlers.send import send_html
from bot.model.arguments import parse_point
from bot.model.demo import demo_board
from bot.render import html


async def help_command(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    board = find_latest_board(context, scope) if scope.is_group else None
    await answer(context, message, messages_for(context, board, message)("help"))


async def example(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    board = find_latest_board(context, scope) if scope.is_group else None
    messages = messages_for(context, board, message)
    argument = command_arguments(message).strip()
    if argument:
        number = parse_point(argument)
        if number is None:
            await answer(context, message, messages("point_unknown", given=argument[:20]))
            return
    elif board is not None and board.current_point is not None:
        number = board.current_point
    else:
        await answer(context, message, messages("example_usage"))
        return
    language = board.language if board is not None else messages.language
    await answer(context, message, html.example(context.bot_data.model(language), messages, number))


async def demo(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    messages = messages_for(context, None, message)
    if message.chat.type != ChatType.PRIVATE:
        await answer(context, message, messages("private_only"))
        return
    model = context.bot_data.model(messages.language)
    view = demo_board(model, messages.plain("demo_title"), messages.language)
    await send_html(context, message.chat.id, 0, messages("demo_intro"))
    await outputs.post_board_view(context, message.chat.id, 0, view)
