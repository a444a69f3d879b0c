"""Turning the team's messages into entries: replies to cards, /ist, /soll, edits, /undo."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Message, Update

from bot.context import Context
from bot.handlers import outputs
from bot.handlers.common import (
    answer,
    command_arguments,
    find_open_board,
    messages_for,
    person_of,
    require_board,
    scope_of,
)
from bot.handlers.send import acknowledge
from bot.model.entry_text import Kind, PointOutOfRange, parse_command_entry, parse_entry
from bot.store import queries
from bot.store.tables import Board, Entry
from bot.texts import Html, Messages

log = logging.getLogger(__name__)
UNDO_PREVIEW = 80


@dataclass(frozen=True)
class Draft:
    """An entry read from a message, not yet stored."""

    board: Board
    point: int
    kind: Kind
    text: str


class Refused(Exception):
    """The message cannot become an entry; the Html says why (or nothing to say)."""

    def __init__(self, reply: Html | None) -> None:
        super().__init__(reply)
        self.reply = reply


def _message_text(message: Message) -> str | None:
    return message.text if message.text is not None else message.caption


def _command_word(message: Message) -> str | None:
    text = _message_text(message) or ""
    if not text.startswith("/"):
        return None
    word = text.split(maxsplit=1)[0][1:].split("@", 1)[0].casefold()
    return word if word in ("ist", "soll") else None


def _card_board(context: Context, message: Message) -> tuple[Board, int] | None:
    """The board and point of the card this message replies to, if it replies to a card."""
    target = message.reply_to_message
    if target is None:
        return None
    with context.bot_data.session() as session:
        card = queries.card_by_message(
            session, chat_id=message.chat.id, message_id=target.message_id
        )
        if card is None:
            return None
        board = session.get(Board, card.board_id)
        assert board is not None
        return board, card.point


def _closed(messages: Messages, board: Board) -> Refused:
    return Refused(messages("entry_board_closed", title=board.title))


def draft_from_reply(context: Context, message: Message) -> Draft:
    """Read a reply to a card: the prefix decides Ist or Soll."""
    found = _card_board(context, message)
    if found is None:
        board = find_open_board(context, scope_of(message))
        raise Refused(messages_for(context, board, message)("reply_not_card"))
    board, point = found
    messages = context.bot_data.messages(board.language)
    if board.status != queries.OPEN:
        raise _closed(messages, board)
    raw = _message_text(message)
    if raw is None:
        raise Refused(messages("entry_unsupported"))
    parsed = parse_entry(raw)
    if not parsed.text:
        raise Refused(messages("entry_empty"))
    return Draft(board, point, parsed.kind, parsed.text)


def draft_from_command(context: Context, message: Message, kind: Kind) -> Draft:
    """Read `/ist [n] text` or `/soll [n] text` against the open board here."""
    scope = scope_of(message)
    messages = messages_for(context, None, message)
    if not scope.is_group:
        raise Refused(messages("group_only"))
    board = find_open_board(context, scope)
    if board is None:
        with context.bot_data.session() as session:
            latest = queries.latest_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)
        if latest is not None:
            raise _closed(context.bot_data.messages(latest.language), latest)
        raise Refused(messages("no_board"))
    messages = context.bot_data.messages(board.language)
    command = kind.value
    arguments = command_arguments(message)
    try:
        parsed = parse_command_entry(arguments)
    except PointOutOfRange as exc:
        raise Refused(
            messages("entry_point_unknown", given=exc.given[:20], command=command)
        ) from exc
    if not parsed.text:
        raise Refused(messages("entry_usage", command=command))
    point = parsed.point if parsed.point is not None else board.current_point
    if point is None:
        raise Refused(messages("entry_no_current_point", command=command))
    return Draft(board, point, kind, parsed.text)


async def _save(context: Context, message: Message, draft: Draft) -> None:
    person = person_of(message)
    if person is None:
        return
    model = context.bot_data.model(draft.board.language)
    with context.bot_data.session() as session:
        board = session.get(Board, draft.board.id)
        assert board is not None
        saved = queries.add_entry(
            session,
            board=board,
            point=draft.point,
            kind=draft.kind,
            text=draft.text,
            author_id=person.id,
            author_name=person.name,
            chat_id=message.chat.id,
            message_id=message.message_id,
            point_count=len(model.points),
        )
        session.commit()
    await acknowledge(context, message.chat.id, message.message_id)
    if saved.completed_now:
        await outputs.announce_completion(context, board)


async def _refuse(context: Context, message: Message, refused: Refused) -> None:
    if refused.reply is not None:
        await answer(context, message, refused.reply)


async def reply_to_card(update: Update, context: Context) -> None:
    """A reply to one of the bot's messages: an entry if it answers a card."""
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return
    target = message.reply_to_message.from_user
    if target is None or target.id != context.bot.id or person_of(message) is None:
        return
    try:
        draft = draft_from_reply(context, message)
    except Refused as refused:
        await _refuse(context, message, refused)
        return
    await _save(context, message, draft)


async def ist(update: Update, context: Context) -> None:
    await _command_entry(update, context, Kind.IST)


async def soll(update: Update, context: Context) -> None:
    await _command_entry(update, context, Kind.SOLL)


async def _command_entry(update: Update, context: Context, kind: Kind) -> None:
    message = update.effective_message
    if message is None or person_of(message) is None:
        return
    try:
        draft = draft_from_command(context, message, kind)
    except Refused as refused:
        await _refuse(context, message, refused)
        return
    await _save(context, message, draft)


async def edited(update: Update, context: Context) -> None:
    """An edited message: update its entry (prefix and point re-read), or record it if new."""
    message = update.edited_message
    if message is None:
        return
    person = person_of(message)
    if person is None:
        return
    with context.bot_data.session() as session:
        entry = queries.entry_by_message(
            session, chat_id=message.chat.id, message_id=message.message_id
        )
    command = _command_word(message)
    if entry is None:
        await _edit_without_entry(update, context, message, command)
        return
    if entry.author_id != person.id or entry.removed_at is not None:
        return
    try:
        if command is not None:
            draft = draft_from_command(context, message, Kind(command))
        else:
            draft = draft_from_reply(context, message)
    except Refused as refused:
        await _refuse(context, message, refused)
        return
    if draft.board.id != entry.board_id:
        return
    await _apply_edit(context, message, entry, draft)


async def _edit_without_entry(
    update: Update, context: Context, message: Message, command: str | None
) -> None:
    """An edit of a message that made no entry yet: treat it as new if it is meant as one."""
    if command is not None:
        await _command_entry(update, context, Kind(command))
        return
    if message.reply_to_message is not None and _card_board(context, message) is not None:
        await reply_to_card(update, context)


async def _apply_edit(context: Context, message: Message, entry: Entry, draft: Draft) -> None:
    with context.bot_data.session() as session:
        board = session.get(Board, draft.board.id)
        stored = session.get(Entry, entry.id)
        assert board is not None
        assert stored is not None
        if board.status != queries.OPEN:
            return
        stored.point = draft.point
        completed = queries.edit_entry(
            session, board=board, entry=stored, kind=draft.kind, text=draft.text
        )
        session.commit()
    await acknowledge(context, message.chat.id, message.message_id)
    if completed:
        await outputs.announce_completion(context, board)


async def undo(update: Update, context: Context) -> None:
    """Remove the sender's most recent entry on the open board and say which."""
    found = await require_board(update, context, latest=True)
    if found is None:
        return
    message, board = found
    person = person_of(message)
    if person is None:
        return
    messages = context.bot_data.messages(board.language)
    if board.status != queries.OPEN:
        await answer(context, message, messages("entry_board_closed", title=board.title))
        return
    model = context.bot_data.model(board.language)
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        removed = queries.undo_last(
            session, board=stored, author_id=person.id, point_count=len(model.points)
        )
        session.commit()
    if removed is None:
        await answer(context, message, messages("undo_nothing"))
        return
    preview = (
        removed.text if len(removed.text) <= UNDO_PREVIEW else removed.text[:UNDO_PREVIEW] + "…"
    )
    await answer(
        context,
        message,
        messages(
            "undo_done",
            point=model.point(removed.point).heading,
            kind=messages.plain("kind_" + removed.kind),
            text=preview,
        ),
    )
