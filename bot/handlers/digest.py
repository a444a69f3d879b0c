"""The weekly digest's content and its buttons (each brings up an empty point's card, also in
basic groups, which have no message links), and `/quiet`: who the digest must not name."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import BotData
from bot.handlers.cards import queue_card
from bot.handlers.core.buttons import Press, button, on_press
from bot.handlers.core.rights import is_anonymous_admin
from bot.handlers.core.sections import DIGEST_SECTIONS, lines_of
from bot.handlers.core.turn import Refusal, Turn, Where, handles
from bot.model.arguments import parse_point
from bot.model.board import BoardView
from bot.model.catalogue import ModelText
from bot.model.pace import OFF_WORDS
from bot.render.reminder import Digest, digest_text
from bot.store import cards as card_store
from bot.store import chats as chat_store
from bot.store import entries as entry_store
from bot.store import schedules as schedule_store
from bot.store.tables import Board
from bot.texts import Html

MAX_POINT_BUTTONS = 20  # one per empty point; well within Telegram's 100 buttons
BUTTONS_PER_ROW = 2
LABEL_LIMIT = 30
_ON_WORDS = frozenset({"", "on", "an", "ein"})


def digest_of(
    session: Session, data: BotData, board: Board, view: BoardView, now: datetime
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The digest of a board as it stands now, with a card button per empty point."""
    assert board.id is not None
    model = data.model(board.language)
    messages = data.messages(board.language)
    since = board.last_digest_at or board.created_at
    entries, contributors = entry_store.entry_activity(session, board_id=board.id, since=since)
    cards = card_store.latest_cards(session, board.id)
    digest = Digest(
        title=board.title,
        since=since,
        zone=board.timezone,
        new_entries=entries,
        contributors=contributors,
        empty=view.empty_points,
        point_count=view.point_count,
        cards={point: (card.chat_id, card.message_id) for point, card in cards.items()},
        thread_id=board.thread_id,
        silent=schedule_store.silent_members(session, board_id=board.id, chat_id=board.chat_id),
        sections=lines_of(DIGEST_SECTIONS, session, board, messages, model, now),
    )
    return digest_text(model, messages, digest), card_buttons(model, board.id, view.empty_points)


def _label(heading: str) -> str:
    return heading if len(heading) <= LABEL_LIMIT else heading[: LABEL_LIMIT - 1] + "…"


def card_buttons(model: ModelText, board_id: int, points: list[int]) -> InlineKeyboardMarkup | None:
    """A button per empty point (at most 20), two in a row; each brings up the point's card."""
    buttons = [
        button(_label(model.point(point).heading), "dcard", board_id, point)
        for point in points[:MAX_POINT_BUTTONS]
    ]
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = [
        buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)
    ]
    return InlineKeyboardMarkup(rows)


@on_press("dcard", needs_open=True)
def digest_card(press: Press) -> None:
    """Anyone taps a point in the digest: its card is posted (and becomes the current point) —
    once a minute per point here, however often the digest's button is tapped."""
    point = parse_point(press.button.argument, len(press.model.points))
    if point is None:
        raise Refusal("digest_point_unknown")
    heading = press.model.point(point).heading
    if not press.cooled_down(
        f"card{point}", str(press.board.id), "digest_card_recent", point=heading
    ):
        return
    queue_card(press.session, press.out, press.data, press.board, point)
    press.tell("digest_card_coming", point=press.model.point(point).heading)


@handles(where=Where.GROUP)
def quiet(turn: Turn) -> None:
    """`/quiet`: the digest no longer names this person here; `/quiet off` undoes it."""
    person = turn.person
    if person is None or is_anonymous_admin(person, turn.scope):
        raise Refusal("quiet_anonymous")
    word = turn.argument().strip().casefold()
    if word in OFF_WORDS:
        quiet_now = False
    elif word in _ON_WORDS:
        quiet_now = True
    else:
        raise Refusal("quiet_usage")
    chat_store.set_quiet(
        turn.session,
        chat_id=turn.scope.chat_id,
        person_id=person.id,
        name=person.name,
        quiet=quiet_now,
    )
    turn.answer("quiet_on" if quiet_now else "quiet_off")
