"""Live progress: one status message per board, and the counts on the cards' buttons.

Handlers only mark a board as changed (`interaction_store.mark_progress`, in their unit of work). The
edits are made by the sweeper below, at most once a minute per board and never when nothing
would change, so they never hold up an answer; Telegram edits use their own lower-priority
budget in the rate limiter.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.context import BotData, Context
from bot.handlers.cards import card_markup
from bot.handlers.core.outbox import Outbox, action
from bot.handlers.core.send import edit_html, send_html
from bot.handlers.core.sweep import sweeper
from bot.handlers.miniapp import board_token, open_button
from bot.model.board import BoardStatus
from bot.render import html
from bot.render.progress import digest, progress_message
from bot.store import boards as board_store
from bot.store import entries as entry_store
from bot.store import interaction as interaction_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork

log = logging.getLogger(__name__)

BOARDS_PER_SWEEP = 50


def queue_progress_message(session: Session, out: Outbox, data: BotData, board: Board) -> None:
    """Post the board's status message if it has none yet, and pin it if the bot may."""
    assert board.id is not None
    if not interaction_store.needs_progress_message(session, board_id=board.id):
        return
    view = board_store.board_view(session, board)
    text = progress_message(data.model(board.language), data.messages(board.language), view)
    token = board_token(session, data, board)
    out.do("status_message", board=board.id, text=str(text), lang=board.language, token=token)


@action("status_message")
async def _post_status(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """Post the status message, remember it, pin it if the bot may."""
    board_id, text = int(args["board"]), str(args["text"])
    data = context.bot_data
    markup = _open_markup(data, str(args["lang"]), args.get("token"), context.bot.username)
    sent = await send_html(context, chat, thread, text, markup=markup)

    def remember(unit: UnitOfWork) -> None:
        interaction_store.set_progress_message(
            unit.session, board_id=board_id, message_id=sent.message_id, shown=digest(text)
        )
        unit.commit()

    await data.run_unit(chat, remember)
    try:
        await context.bot.pin_chat_message(
            chat_id=sent.chat.id, message_id=sent.message_id, disable_notification=True
        )
    except TelegramError as exc:  # no right to pin: the message stays unpinned, quietly
        log.info("status message of board %s not pinned: %s", board_id, exc)


def _open_markup(
    data: BotData, language: str, token: str | None, bot_username: str
) -> InlineKeyboardMarkup | None:
    """The status message's "open board" button (a `url` button: it is a group's message)."""
    if token is None:
        return None
    button = open_button(data.settings, data.messages(language), bot_username, token, private=False)
    return InlineKeyboardMarkup([[button]]) if button is not None else None


@dataclass(frozen=True)
class _Edit:
    chat_id: int
    message_id: int
    text: str
    markup: InlineKeyboardMarkup | None
    board_id: int
    status: bool  # the status message (else a card)


def _edits_of(
    session: Session, data: BotData, board: Board, shown_message: int | None, bot_username: str
) -> list[_Edit]:
    """What differs between the board now and what its status message and cards show."""
    assert board.id is not None
    messages = data.messages(board.language)
    model = data.model(board.language)
    view = board_store.board_view(session, board)
    edits: list[_Edit] = []
    row = interaction_store.progress_of(session, board_id=board.id)
    if row is not None and shown_message is not None:
        text = progress_message(model, messages, view)
        if digest(text) != row.shown:
            interaction_store.set_progress_shown(session, row=row, shown=digest(text))
            token = board_token(session, data, board)
            markup = _open_markup(data, board.language, token, bot_username)
            edits.append(_Edit(board.chat_id, shown_message, text, markup, board.id, status=True))
    counts = entry_store.entry_counts(session, board_id=board.id)
    is_open = board.status == BoardStatus.OPEN
    for card, face in interaction_store.card_faces(session, board_id=board.id):
        if card.chat_id != board.chat_id:
            continue  # left behind in a group that became a supergroup: no longer editable
        ist, soll = counts.get(face.point, (0, 0))
        with_next = face.newest and is_open
        if (face.ist, face.soll, face.with_next) == (ist, soll, with_next):
            continue
        interaction_store.set_face(session, face=face, ist=ist, soll=soll, with_next=with_next)
        markup = card_markup(messages, board.id, face.point, ist, soll, with_next=with_next)
        text = html.card(model, messages, face.point)
        edits.append(_Edit(card.chat_id, card.message_id, text, markup, board.id, status=False))
    return edits


@sweeper("progress")
async def sweep_progress(context: Context, now: datetime) -> int:
    """Edit the status message and cards of every board that changed, a minute apart at most."""
    data = context.bot_data
    username = context.bot.username

    def claim(unit: UnitOfWork) -> list[_Edit]:
        session = unit.session
        edits: list[_Edit] = []
        for row in interaction_store.due_progress(session, now=now, limit=BOARDS_PER_SWEEP):
            due_at, message_id = row.due_at, row.message_id
            assert due_at is not None
            if not interaction_store.claim_progress(
                session, board_id=row.board_id, due_at=due_at, now=now
            ):
                continue
            board = board_store.board_by_id(session, row.board_id)
            if board is None:
                continue
            edits.extend(_edits_of(session, data, board, message_id, username))
        unit.commit()
        return edits

    edits = await data.run_unit(None, claim)  # boards of several chats: no chat's lane
    for edit in edits:
        edited = await edit_html(context, edit.chat_id, edit.message_id, edit.text, edit.markup)
        if edit.status and not edited:
            # deleted or no longer editable: the next area opened posts a new one
            await data.run_unit(edit.chat_id, functools.partial(_forget, edit=edit))
    return len(edits)


def _forget(unit: UnitOfWork, edit: _Edit) -> None:
    interaction_store.forget_progress_message(
        unit.session, board_id=edit.board_id, message_id=edit.message_id
    )
    unit.commit()
