"""Posting the board: text, image and files, on request, on completion and on closing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.handlers.send import send_document, send_html, send_many, send_photo
from bot.model.board import BoardView
from bot.render import html
from bot.render.files import board_json, board_markdown, file_stem
from bot.render.image import render_png
from bot.store import queries
from bot.store.tables import Board
from bot.texts import Html


def _view(context: Context, board: Board) -> BoardView:
    with context.bot_data.session() as session:
        return queries.board_view(session, board)


def reminder_line(context: Context, board: Board) -> Html:
    """The status line about the next reminder, in the board's local time."""
    messages = context.bot_data.messages(board.language)
    if board.remind_weekday is None or board.next_reminder_at is None:
        return messages("status_reminder_off")
    return messages("status_next_reminder", when=local_time(board, board.next_reminder_at))


def local_time(board: Board, moment: datetime) -> str:
    """A moment as the board's people read it: local date and time with the zone."""
    local = moment.astimezone(ZoneInfo(board.timezone))
    return f"{local:%Y-%m-%d %H:%M} ({board.timezone})"


async def post_board_view(
    context: Context, chat_id: int, thread_id: int, view: BoardView, *, image: bool = True
) -> None:
    """Send a board (text messages, then the image) to a chat."""
    model = context.bot_data.model(view.language)
    messages = context.bot_data.messages(view.language)
    await send_many(context, chat_id, thread_id, list(html.board_text(model, messages, view)))
    if image:
        png = render_png(model, messages, view)
        stem = file_stem(view.title, datetime.now(UTC))
        await send_photo(
            context, chat_id, thread_id, png, f"{stem}.png", html.board_title(messages, view)
        )


async def post_board(context: Context, board: Board) -> None:
    """`/board`: the board as text and image now."""
    await post_board_view(context, board.chat_id, board.thread_id, _view(context, board))


async def post_files(context: Context, chat_id: int, thread_id: int, view: BoardView) -> None:
    """`/export`: Markdown and JSON of the whole board."""
    model = context.bot_data.model(view.language)
    messages = context.bot_data.messages(view.language)
    now = datetime.now(UTC)
    stem = file_stem(view.title, now)
    markdown = board_markdown(model, messages, view, now).encode("utf-8")
    document = board_json(model, view, now).encode("utf-8")
    await send_document(
        context,
        chat_id,
        thread_id,
        markdown,
        f"{stem}.md",
        messages("export_caption", title=view.title, format="Markdown"),
    )
    await send_document(
        context,
        chat_id,
        thread_id,
        document,
        f"{stem}.json",
        messages("export_caption", title=view.title, format="JSON"),
    )


async def announce_completion(context: Context, board: Board) -> None:
    """The last empty point just got its first Ist entry: say so and post the board."""
    messages = context.bot_data.messages(board.language)
    await send_html(context, board.chat_id, board.thread_id, messages("board_complete"))
    await post_board(context, board)


async def post_final(context: Context, board: Board) -> None:
    """On `/close`: the final board as text, image and files."""
    view = _view(context, board)
    await post_board_view(context, board.chat_id, board.thread_id, view)
    await post_files(context, board.chat_id, board.thread_id, view)
