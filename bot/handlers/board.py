"""Opening a board and moving the group through it: /newboard /area /next /point /lang /status /board."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update

from bot.context import Context
from bot.handlers import outputs
from bot.handlers.common import (
    answer,
    command_arguments,
    is_moderator,
    messages_for,
    note_chat,
    parse_argument,
    person_of,
    require_board,
    scope_of,
)
from bot.handlers.send import send_html
from bot.model.arguments import parse_area, parse_point
from bot.model.board import next_step
from bot.model.entry_text import clean_title
from bot.model.schedule import next_due, parse_hhmm
from bot.render import html
from bot.store import queries
from bot.store.tables import Board
from bot.texts import Html

TITLE_LIMIT = 120


async def post_card(context: Context, board: Board, point: int, *, area: int | None = None) -> None:
    """Post the card of a point, remember it, and make it the board's current point."""
    assert board.id is not None
    model = context.bot_data.model(board.language)
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        stored.current_point = point
        stored.current_area = area or model.area_of(point).number
        session.commit()
    text = html.card(model, context.bot_data.messages(board.language), point)
    sent = await send_html(context, board.chat_id, board.thread_id, text)
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        queries.add_card(
            session, board=stored, point=point, chat_id=sent.chat.id, message_id=sent.message_id
        )
        session.commit()


def reminder_description(context: Context, board: Board) -> Html:
    messages = context.bot_data.messages(board.language)
    if board.remind_weekday is None:
        return messages("reminder_disabled")
    return messages(
        "reminder_description",
        weekday=messages.weekday(board.remind_weekday),
        time=board.remind_time,
        zone=board.timezone,
    )


async def newboard(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    scope = scope_of(message)
    messages = messages_for(context, None, message)
    if not scope.is_group:
        await answer(context, message, messages("group_only"))
        return
    if not await is_moderator(context, message, None):
        await answer(context, message, messages("not_moderator"))
        return
    raw_title = command_arguments(message)
    title = clean_title(raw_title, TITLE_LIMIT)
    if title is None:
        key = "newboard_title_too_long" if clean_title(raw_title, 10**6) else "newboard_usage"
        await answer(context, message, messages(key, limit=TITLE_LIMIT))
        return
    person = person_of(message)
    assert person is not None
    note_chat(context, update)
    settings = context.bot_data.settings
    due = next_due(datetime.now(UTC), 0, parse_hhmm("09:00"), settings.bot_timezone)
    with context.bot_data.session() as session:
        existing = queries.open_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)
        if existing is not None:
            await answer(context, message, messages("newboard_exists", title=existing.title))
            return
        try:
            board = queries.create_board(
                session,
                chat_id=scope.chat_id,
                thread_id=scope.thread_id,
                title=title,
                language=settings.bot_language,
                created_by=person.id,
                timezone=settings.bot_timezone,
                next_reminder_at=due,
            )
        except queries.BoardAlreadyOpen:
            return
        session.commit()
    messages = context.bot_data.messages(board.language)
    await answer(
        context,
        message,
        messages("board_opened", title=board.title, reminder=reminder_description(context, board)),
    )


async def area(update: Update, context: Context) -> None:
    found = await require_board(update, context, moderator=True)
    if found is None:
        return
    message, board = found
    messages = context.bot_data.messages(board.language)
    catalogue = context.bot_data.catalogue
    number = await parse_argument(
        context,
        message,
        messages,
        lambda given: parse_area(given, catalogue),
        usage="area_usage",
        unknown="area_unknown",
    )
    if number is None:
        return
    model = context.bot_data.model(board.language)
    chosen = model.area(number)
    points = ", ".join(str(p) for p in chosen.points)
    await send_html(
        context,
        board.chat_id,
        board.thread_id,
        messages("area_opened", number=number, name=chosen.name, points=points),
    )
    await post_card(context, board, chosen.points[0], area=number)


async def next_point(update: Update, context: Context) -> None:
    found = await require_board(update, context, moderator=True)
    if found is None:
        return
    message, board = found
    messages = context.bot_data.messages(board.language)
    model = context.bot_data.model(board.language)
    with context.bot_data.session() as session:
        view = queries.board_view(session, board)
    step = next_step(model, view, board.current_area, board.current_point)
    if step is None:
        await answer(context, message, messages("next_all_filled"))
        return
    if step.opens_area:
        chosen = model.area(step.area)
        previous = model.area(board.current_area).name if board.current_area else "–"
        await send_html(
            context,
            board.chat_id,
            board.thread_id,
            messages("next_area_opened", previous=previous, number=chosen.number, name=chosen.name),
        )
    await post_card(context, board, step.point, area=step.area)


async def point(update: Update, context: Context) -> None:
    found = await require_board(update, context, moderator=True)
    if found is None:
        return
    message, board = found
    messages = context.bot_data.messages(board.language)
    number = await parse_argument(
        context, message, messages, parse_point, usage="point_usage", unknown="point_unknown"
    )
    if number is not None:
        await post_card(context, board, number)


async def lang(update: Update, context: Context) -> None:
    found = await require_board(update, context, moderator=True)
    if found is None:
        return
    message, board = found
    argument = command_arguments(message).strip().casefold()
    if argument not in context.bot_data.texts.languages:
        await answer(context, message, context.bot_data.messages(board.language)("lang_usage"))
        return
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        stored.language = argument
        session.commit()
    await answer(context, message, context.bot_data.messages(argument)("lang_set"))


async def status(update: Update, context: Context) -> None:
    found = await require_board(update, context, latest=True)
    if found is None:
        return
    message, board = found
    model = context.bot_data.model(board.language)
    messages = context.bot_data.messages(board.language)
    with context.bot_data.session() as session:
        view = queries.board_view(session, board)
    reminder = outputs.reminder_line(context, board)
    await answer(
        context, message, html.status(model, messages, view, board.current_point, reminder)
    )


async def board_command(update: Update, context: Context) -> None:
    found = await require_board(update, context, latest=True)
    if found is not None:
        await outputs.post_board(context, found[1])
