"""The Mini App beside the chat (SPEC §13): the buttons that open it, and what the app does to a
board — each a unit of work of its own, through the same rules and store functions as the chat.

Entries from the app go through `check_entry` and `store_entry` (bot/handlers/entries.py), like
a reply to a card: limits, closed boards, the status message marked for its edit, the completion
announced in the group once. They are not posted one by one into the group.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.context import BotData
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.turn import Refusal, Turn
from bot.handlers.entries import (
    Draft,
    announce_completion,
    change_entry,
    check_entry,
    mark_changed,
    store_entry,
)
from bot.handlers.plan import board_today, synced_plan
from bot.model.board import BoardStatus
from bot.model.entry_text import Kind
from bot.model.plan import Owner, clears, is_past, parse_due, parse_owner, parse_status
from bot.render import miniapp as render
from bot.render.dates import reader_date
from bot.settings import Settings
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import entries as entry_store
from bot.store import links
from bot.store import plan as plan_store
from bot.store.tables import Board, Entry
from bot.store.votes import board_votes
from bot.texts import Messages

# ---- the buttons in the chat ------------------------------------------------------------------


def direct_link(bot_username: str, short_name: str, token: str) -> str:
    """The Mini App's direct link (TELEGRAM.md): opens it for this board, also in groups."""
    return f"https://t.me/{bot_username}/{short_name}?startapp={token}"


def open_button(
    settings: Settings,
    messages: Messages,
    bot_username: str,
    token: str,
    *,
    private: bool,
    label: str | None = None,
) -> InlineKeyboardButton | None:
    """A button that opens the board in the Mini App: `web_app` in a private chat, a `url`
    button to the direct link elsewhere (groups refuse `web_app` buttons); None when off."""
    if settings.miniapp_url is None or settings.miniapp_short_name is None:
        return None
    text = label if label is not None else messages.plain("miniapp_open_button")
    if private:
        return InlineKeyboardButton(
            text, web_app=WebAppInfo(f"{settings.miniapp_url}?startapp={token}")
        )
    return InlineKeyboardButton(
        text, url=direct_link(bot_username, settings.miniapp_short_name, token)
    )


def board_token(session: Session, data: BotData, board: Board) -> str | None:
    """The board's token when the Mini App is on (made on first use), else None."""
    if not data.settings.miniapp_enabled:
        return None
    assert board.id is not None
    return links.token_for(session, board_id=board.id)


def board_button(turn: Turn, board: Board, label: str | None = None) -> InlineKeyboardButton | None:
    """A button that opens `board` in the Mini App, for a message of this update; None when
    the app is off."""
    token = board_token(turn.session, turn.data, board)
    if token is None:
        return None
    username = turn.update.get_bot().username
    return open_button(
        turn.data.settings,
        turn.messages,
        username,
        token,
        private=turn.scope.is_private,
        label=label,
    )


def open_markup(turn: Turn, board: Board) -> InlineKeyboardMarkup | None:
    """The "open board" button under a message of this update, or None when the app is off."""
    button = board_button(turn, board)
    return InlineKeyboardMarkup([[button]]) if button is not None else None


# ---- what the app does: one unit of work each ---------------------------------------------------

APP_MESSAGE_BASE = 2**62  # app entries have no Telegram message: a negative id of their own


@dataclass
class Done:
    """What a unit of work of the app decided: the answer for the page, and sends."""

    body: dict[str, Any] = field(default_factory=dict)
    out: Outbox | None = None
    saved: bool = False


@dataclass(frozen=True)
class Visitor:
    """Who uses the app, as Telegram signed it, and what they may do on this board."""

    id: int
    name: str
    moderator: bool


def read_board(session: Session, data: BotData, board: Board, visitor: Visitor) -> Done:
    model = data.model(board.language)
    view = board_store.board_view(session, board)
    version = links.board_version(session, board=board)
    return Done(
        render.board_data(
            model, view, person_id=visitor.id, moderator=visitor.moderator, version=version
        )
    )


def read_plan(session: Session, data: BotData, board: Board) -> Done:
    model = data.model(board.language)
    measures = synced_plan(session, board, model)  # synchronised first
    assert board.id is not None
    votes = board_votes(session, board_id=board.id)
    return Done(render.plan_data(model, measures, board_today(board), votes))


def _outbox(board: Board) -> Outbox:
    return Outbox(board.chat_id, board.thread_id, reply_to=None)


def _kind(value: object) -> Kind:
    if value not in (Kind.IST.value, Kind.SOLL.value):
        raise ValueError("kind")
    return Kind(str(value))


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("text")
    return value.strip()


def add_entry(
    session: Session, data: BotData, board: Board, visitor: Visitor, body: dict[str, Any]
) -> Done:
    """A new entry of the visitor on one point (ValueError: a request the page never sends)."""
    point, kind, text = body.get("point"), _kind(body.get("kind")), _text(body.get("text"))
    points = len(data.model(board.language).points)
    if not isinstance(point, int) or not 1 <= point <= points:
        raise ValueError("point")
    head = board_store.board_head(board)
    check_entry(head, text)
    out = _outbox(board)
    saved = store_entry(
        session,
        draft=Draft(head, point, kind, text),
        author_id=visitor.id,
        author_name=visitor.name,
        chat_id=board.chat_id,
        message_id=-(APP_MESSAGE_BASE + secrets.randbelow(APP_MESSAGE_BASE)),
        point_count=points,
    )
    if saved.completed_now:
        announce_completion(session, out, head.id)
    return Done({"id": saved.entry_id}, out, saved=True)


def _own_entry(session: Session, board: Board, visitor: Visitor, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if (
        entry is None
        or entry.board_id != board.id
        or entry.author_id != visitor.id
        or entry.removed_at is not None
    ):
        raise LookupError("no such entry of this person")
    return entry


def edit_entry(
    session: Session,
    data: BotData,
    board: Board,
    visitor: Visitor,
    entry_id: int,
    body: dict[str, Any],
) -> Done:
    """The visitor's own entry with a new text (and side)."""
    entry = _own_entry(session, board, visitor, entry_id)
    text = _text(body.get("text"))
    kind = _kind(body.get("kind", entry.kind))
    check_entry(board_store.board_head(board), text)
    out = _outbox(board)
    points = len(data.model(board.language).points)
    completed = change_entry(
        session,
        board=board,
        entry=entry,
        point=entry.point,
        kind=kind,
        text=text,
        point_count=points,
    )
    if completed:
        assert board.id is not None
        announce_completion(session, out, board.id)
    return Done({"id": entry_id}, out)


def take_back(
    session: Session, data: BotData, board: Board, visitor: Visitor, entry_id: int
) -> Done:
    """The visitor's own entry taken back, as `/undo` does with the latest one."""
    entry = _own_entry(session, board, visitor, entry_id)
    if board.status != BoardStatus.OPEN:
        raise Refusal("entry_board_closed", title=board.title)
    points = len(data.model(board.language).points)
    entry_store.remove_entry(session, board=board, entry=entry, point_count=points)
    assert board.id is not None
    mark_changed(session, board.id)
    return Done({"id": entry_id})


def set_measure(
    session: Session, data: BotData, board: Board, number: int, body: dict[str, Any]
) -> Done:
    """A moderator sets a measure's owner, due date or status (as `/measure` does)."""
    messages = data.messages(board.language)
    synced_plan(session, board, data.model(board.language))
    measure = plan_store.measure_by_number(session, board=board, number=number)
    if measure is None:
        raise LookupError("no such measure")
    what, value = body.get("field"), body.get("value")
    if not isinstance(value, str):
        raise ValueError("value")
    value = value.strip()
    if what == "owner":
        owner: Owner | None = None
        if value and not clears(value):
            owner = parse_owner(value)
            if owner is None:
                raise Refusal("measure_owner_bad", given=value[:40], number=number)
            if owner.name is not None:
                known = chat_store.member_named(session, chat_id=board.chat_id, name=owner.name)
                owner = Owner(name=owner.name, person_id=known)
        plan_store.set_measure_owner(session, measure=measure, owner=owner)
    elif what == "due":
        due: date | None = None
        if value and not clears(value):
            today = board_today(board)
            due = parse_due(value, today)
            if due is None:
                raise Refusal("measure_due_bad", given=value[:40])
            if is_past(due, today):
                raise Refusal(
                    "measure_due_past",
                    due=reader_date(due, messages),
                    today=reader_date(today, messages),
                )
        plan_store.set_measure_due(session, measure=measure, due=due)
    elif what == "status":
        status = parse_status(value)
        if status is None:
            raise Refusal("measure_status_bad", given=value[:40])
        plan_store.set_measure_status(session, measure=measure, status=status)
    else:
        raise ValueError("field")
    return Done({"number": number})
