"""Opening a board and moving the group through it: /newboard /area /next /point /lang /status /board."""

from __future__ import annotations

from bot import clock
from bot.handlers import pickers
from bot.handlers.cards import queue_card
from bot.handlers.core.turn import Need, Refusal, Turn, Where, handles
from bot.handlers.miniapp import open_markup
from bot.handlers.outputs import claim_output, queue_board
from bot.handlers.pickers import area_picker, point_picker
from bot.handlers.status import status_text
from bot.model.arguments import parse_area, parse_point
from bot.model.entry_text import clean_title
from bot.model.schedule import next_due, parse_hhmm
from bot.render.when import reminder_description
from bot.store import boards as board_store
from bot.store import chats as chat_store

TITLE_LIMIT = 120
DEFAULT_REMINDER = (0, "09:00")  # Monday, 09:00 (SPEC §7)


def _new_board_language(turn: Turn) -> str:
    """The creator's language if the bot speaks it, else BOT_LANGUAGE (SPEC §4a)."""
    person = turn.person
    if person is not None and person.language in turn.data.texts.languages:
        return person.language
    return turn.data.settings.bot_language


@handles(where=Where.GROUP, moderator=True)
def newboard(turn: Turn) -> None:
    raw_title = turn.argument()
    title = clean_title(raw_title, TITLE_LIMIT)
    if title is None:
        key = "newboard_title_too_long" if clean_title(raw_title, 10**6) else "newboard_usage"
        raise Refusal(key, limit=TITLE_LIMIT)
    person, scope, session = turn.person, turn.scope, turn.session
    assert person is not None
    existing = board_store.open_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)
    if existing is not None:
        raise Refusal("newboard_exists", title=existing.title)
    chat = turn.message.chat
    chat_store.remember_chat(
        session,
        chat_id=chat.id,
        kind=chat.type,
        title=chat.title or "",
        is_forum=bool(chat.is_forum),
    )
    settings = turn.data.settings
    weekday, at = DEFAULT_REMINDER
    try:
        board = board_store.create_board(
            session,
            chat_id=scope.chat_id,
            thread_id=scope.thread_id,
            title=title,
            language=_new_board_language(turn),
            created_by=person.id,
            timezone=settings.bot_timezone,
            next_reminder_at=next_due(clock.now(), weekday, parse_hhmm(at), settings.bot_timezone),
        )
    except board_store.BoardAlreadyOpen:
        return  # a concurrent /newboard won; it answers
    turn.speak(board.language)
    _, pick_area = area_picker(turn.model, turn.messages, board_store.board_view(session, board))
    opened = turn.messages(
        "board_opened",
        title=board.title,
        reminder=reminder_description(
            turn.messages, board.remind_weekday, board.remind_time, board.timezone
        ),
    )
    turn.out.answer(opened, markup=pick_area)


@handles(board=Need.OPEN, moderator=True)
def area(turn: Turn) -> None:
    """`/area <n or name>` opens an area; without argument, the area picker."""
    catalogue = turn.data.catalogue
    if not turn.argument().strip():
        view = board_store.board_view(turn.session, turn.open_board)
        text, markup = area_picker(turn.model, turn.messages, view)
        turn.out.answer(text, markup=markup)
        return
    number = turn.parsed(
        lambda given: parse_area(given, catalogue), usage="area_usage", unknown="area_unknown"
    )
    open_area(turn, number)


def open_area(turn: Turn, number: int) -> None:
    """Say which area is open now and post the card of its first point."""
    pickers.open_area(turn.session, turn.out, turn.data, turn.open_board, number)


@handles(board=Need.OPEN, moderator=True)
def next_point(turn: Turn) -> None:
    pickers.advance(turn.session, turn.out, turn.data, turn.open_board)


@handles(board=Need.OPEN, moderator=True)
def point(turn: Turn) -> None:
    """`/point <n>` posts a card; without argument, the points of the current area to pick."""
    board = turn.open_board
    if not turn.argument().strip():
        view = board_store.board_view(turn.session, board)
        text, markup = point_picker(turn.model, turn.messages, view, board.current_area or 1)
        turn.out.answer(text, markup=markup)
        return
    number = turn.parsed(parse_point, usage="point_usage", unknown="point_unknown")
    queue_card(turn.session, turn.out, turn.data, board, number)


@handles(board=Need.OPEN, moderator=True)
def lang(turn: Turn) -> None:
    argument = turn.argument().strip().casefold()
    if argument not in turn.data.texts.languages:
        raise Refusal("lang_usage")
    board_store.set_language(turn.session, board=turn.open_board, language=argument)
    turn.speak(argument)
    turn.answer("lang_set")


@handles(board=Need.LATEST, read_only=True)
def status(turn: Turn) -> None:
    board = turn.open_board
    text = status_text(turn.session, board, turn.messages, turn.model)
    turn.out.answer(text, markup=open_markup(turn, board))


@handles(board=Need.LATEST, read_only=True)
def board_command(turn: Turn) -> None:
    """`/board`: the board as text and image (or, under the group's cool-down, a note that
    points to the last one); repeated while waiting, only the newest of each goes out."""
    view = board_store.board_view(turn.session, turn.open_board)
    if claim_output(turn, "board", view.fingerprint()):
        queue_board(turn.out, view, markup=open_markup(turn, turn.open_board))
