"""Explaining the bot: /start, /help, /example, /demo."""

from __future__ import annotations

from bot.handlers.core.turn import Refusal, Turn, Where, handles
from bot.handlers.outputs import queue_board
from bot.model.arguments import parse_point
from bot.model.demo import demo_board
from bot.render import html


@handles(read_only=True)
def help_command(turn: Turn) -> None:
    turn.answer("help")


@handles(read_only=True)
def example(turn: Turn) -> None:
    board = turn.board
    argument = turn.argument().strip()
    if argument:
        number = parse_point(argument)
        if number is None:
            raise Refusal("point_unknown", given=argument[:20])
    elif board is not None and board.current_point is not None:
        number = board.current_point
    else:
        raise Refusal("example_usage")
    turn.out.answer(html.example(turn.model, turn.messages, number))


@handles(where=Where.PRIVATE)
def demo(turn: Turn) -> None:
    messages = turn.messages
    view = demo_board(turn.model, messages.plain("demo_title"), messages.language)
    turn.out.post(messages("demo_intro"))
    queue_board(turn.out, view, demo=True)
