"""Turning the team's messages into entries: replies to cards and prompts, /ist, /soll, edits,
/undo."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from telegram import Message

from bot import clock, metrics
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.reading import command_word, message_text
from bot.handlers.core.turn import Need, Refusal, Turn, handles
from bot.handlers.outputs import queue_completion
from bot.model.board import BoardHead, BoardStatus
from bot.model.entry_text import (
    Kind,
    PointOutOfRange,
    has_prefix,
    parse_command_entry,
    parse_entry,
)
from bot.store import boards as board_store
from bot.store import cards as card_store
from bot.store import entries as entry_store
from bot.store import interaction as interaction_store
from bot.store.tables import Board, Entry

UNDO_PREVIEW = 80
ENTRY_LIMIT = 4000  # characters; longer texts belong in several entries (SPEC §8)
_ENTRY_COMMANDS = ("ist", "soll")


@dataclass(frozen=True)
class Draft:
    """An entry read from a message, not yet stored."""

    board: BoardHead
    point: int
    kind: Kind
    text: str
    point_had_ist: bool = False  # known to have an Ist entry already (completeness unchanged)
    looked: card_store.Looked | None = None  # what the card's query found for saving it


def _checked(
    turn: Turn,
    board: BoardHead,
    point: int,
    kind: Kind,
    text: str,
    point_had_ist: bool = False,
    looked: card_store.Looked | None = None,
) -> Draft:
    """A draft for an open board, within the length limit; else a refusal."""
    turn.speak(board.language)
    check_entry(board, text)
    return Draft(board, point, kind, text, point_had_ist, looked)


def check_entry(board: BoardHead, text: str) -> None:
    """The rules every new or changed entry meets, from the chat or the Mini App: an open
    board, within the length limit; else a refusal."""
    if board.status != BoardStatus.OPEN:
        raise Refusal("entry_board_closed", title=board.title)
    if len(text) > ENTRY_LIMIT:
        raise Refusal("entry_too_long", length=len(text), limit=ENTRY_LIMIT)


@dataclass(frozen=True)
class _Target:
    """The card (or the prompt after a tap on Ist/Soll) a message replies to."""

    board: BoardHead
    point: int
    kind: Kind  # the kind an entry without prefix gets there
    point_had_ist: bool  # known to have an Ist entry already
    looked: card_store.Looked | None = None


def _card_of(turn: Turn, message: Message) -> _Target | None:
    """What this message replies to, if it is a card or a prompt."""
    target = message.reply_to_message
    if target is None:
        return None
    chat_id = message.chat.id
    card = card_store.card_target(
        turn.session, chat_id=chat_id, message_id=target.message_id, reply_id=message.message_id
    )
    if card is not None:
        return _Target(card.board, card.point, Kind.IST, card.point_had_ist, card.looked)
    prompt = interaction_store.prompt_by_message(
        turn.session, chat_id=chat_id, message_id=target.message_id
    )
    if prompt is None:
        return None
    prompted = board_store.board_by_id(turn.session, prompt.board_id)
    assert prompted is not None
    # whoever replies, it is their entry: a prompt only suggests the point and the kind
    return _Target(board_store.board_head(prompted), prompt.point, Kind(prompt.kind), False)


def draft_from_reply(turn: Turn, target: _Target | None = None) -> Draft:
    """Read a reply to a card or prompt: a prefix decides Ist or Soll, else the prompt's kind.
    `target`: what the reply answers, when the caller looked it up already."""
    found = target or _card_of(turn, turn.message)
    if found is None:
        here = turn.board or turn.latest_board()
        if here is not None:
            turn.speak(here.language)
        raise Refusal("reply_not_card")
    raw = message_text(turn.message)
    if raw is None:
        turn.speak(found.board.language)
        raise Refusal("entry_unsupported")
    parsed = parse_entry(raw, found.kind)
    if not parsed.text:
        turn.speak(found.board.language)
        raise Refusal("entry_empty")
    return _checked(
        turn, found.board, found.point, parsed.kind, parsed.text, found.point_had_ist, found.looked
    )


def _draft_in_place(turn: Turn, entry: Entry) -> Draft:
    """An entry's message edited into plain text (no command, no reply): the text replaces the
    entry's, on its point and side (a prefix may still change the side)."""
    board = board_store.board_by_id(turn.session, entry.board_id)
    assert board is not None
    raw = message_text(turn.message)
    parsed = parse_entry(raw or "", Kind(entry.kind))
    if not parsed.text:
        turn.speak(board.language)
        raise Refusal("entry_empty")
    return _checked(turn, board_store.board_head(board), entry.point, parsed.kind, parsed.text)


def draft_from_command(turn: Turn, kind: Kind) -> Draft:
    """Read `/ist [n] text` or `/soll [n] text` against the board here."""
    if turn.board is None:
        raise Refusal("group_only" if not turn.scope.is_group else "no_board")
    current_point = turn.board.current_point
    board = board_store.board_head(turn.board)
    turn.speak(board.language)
    if board.status != BoardStatus.OPEN:
        raise Refusal("entry_board_closed", title=board.title)
    command = kind.value
    try:
        parsed = parse_command_entry(turn.argument())
    except PointOutOfRange as exc:
        raise Refusal("entry_point_unknown", given=exc.given[:20], command=command) from exc
    if not parsed.text:
        raise Refusal("entry_usage", command=command)
    point = parsed.point if parsed.point is not None else current_point
    if point is None:
        raise Refusal("entry_no_current_point", command=command)
    return _checked(turn, board, point, kind, parsed.text)


def store_entry(
    session: Session,
    *,
    draft: Draft,
    author_id: int,
    author_name: str,
    chat_id: int,
    message_id: int,
    point_count: int,
) -> entry_store.Saved:
    """Record a checked draft and mark the board changed (its status message and cards are
    edited by the progress sweep): the one way an entry is stored, from the chat or the app."""
    saved = entry_store.add_entry(
        session,
        board=draft.board,
        point=draft.point,
        kind=draft.kind,
        text=draft.text,
        author_id=author_id,
        author_name=author_name,
        chat_id=chat_id,
        message_id=message_id,
        point_count=point_count,
        point_had_ist=draft.point_had_ist,
        looked=draft.looked,
    )
    if not saved.duplicate:
        mark_changed(session, draft.board.id, draft.looked)
    return saved


def change_entry(
    session: Session,
    *,
    board: Board,
    entry: Entry,
    point: int,
    kind: Kind,
    text: str,
    point_count: int,
) -> bool:
    """Replace an entry's point, side and text; True when the board just became complete."""
    completed = entry_store.edit_entry(
        session,
        board=board,
        entry=entry,
        point=point,
        kind=kind,
        text=text,
        point_count=point_count,
    )
    assert board.id is not None
    mark_changed(session, board.id)
    return completed


def _save(turn: Turn, draft: Draft) -> None:
    person = turn.person
    assert person is not None
    saved = store_entry(
        turn.session,
        draft=draft,
        author_id=person.id,
        author_name=person.name,
        chat_id=turn.message.chat.id,
        message_id=turn.message.message_id,
        point_count=len(turn.model.points),
    )
    if not saved.duplicate:
        turn.out.count(metrics.entry_saved)
    turn.out.react()
    if saved.completed_now:
        announce_completion(turn.session, turn.out, draft.board.id)


def mark_changed(session: Session, board_id: int, looked: card_store.Looked | None = None) -> None:
    """The board's status message and cards are due for an edit (bot/handlers/progress.py)."""
    interaction_store.mark_progress(session, board_id=board_id, now=clock.now(), looked=looked)


def announce_completion(session: Session, out: Outbox, board_id: int) -> None:
    """The last empty point just got its first Ist entry: say so in the group, once."""
    board = board_store.board_by_id(session, board_id)
    assert board is not None
    queue_completion(out, board_store.board_view(session, board))


def _replies_to_bot(turn: Turn) -> bool:
    target = turn.message.reply_to_message
    sender = target.from_user if target is not None else None
    return sender is not None and sender.id == turn.bot_id


@handles(board=Need.OWN)
def reply_to_card(turn: Turn) -> None:
    """A reply to one of the bot's messages: an entry if it answers a card or prompt. A reply to
    any other message of the bot (digest, review, status …) is conversation and gets no answer —
    unless it starts with an entry prefix: then one short hint where entries go (SPEC §4)."""
    if turn.person is None or not _replies_to_bot(turn):
        return
    target = _card_of(turn, turn.message)
    if target is None:
        if has_prefix(message_text(turn.message) or ""):
            draft_from_reply(turn)  # refuses with the hint
        return
    _save(turn, draft_from_reply(turn, target))


@handles(board=Need.LATEST)
def ist(turn: Turn) -> None:
    if turn.person is not None:
        _save(turn, draft_from_command(turn, Kind.IST))


@handles(board=Need.LATEST)
def soll(turn: Turn) -> None:
    if turn.person is not None:
        _save(turn, draft_from_command(turn, Kind.SOLL))


@handles(board=Need.NONE)
def edited(turn: Turn) -> None:
    """An edited message: update its entry (prefix and point re-read), or record it if new."""
    person = turn.person
    if person is None:
        return
    message = turn.message
    entry = entry_store.entry_by_message(
        turn.session, chat_id=message.chat.id, message_id=message.message_id
    )
    command = command_word(message)
    command = command if command in _ENTRY_COMMANDS else None
    if entry is None:
        # an edit of a message that made no entry yet: treat it as new if it is meant as one
        if command is not None:
            _save(turn, draft_from_command(turn, Kind(command)))
        elif _replies_to_bot(turn) and _card_of(turn, message) is not None:
            _save(turn, draft_from_reply(turn))
        return
    if entry.author_id != person.id or entry.removed_at is not None:
        return
    if command:
        draft = draft_from_command(turn, Kind(command))
    elif message.reply_to_message is not None:
        draft = draft_from_reply(turn)
    else:  # `/ist 5 x` edited into `x`: the new text, on the entry's point
        draft = _draft_in_place(turn, entry)
    if draft.board.id != entry.board_id:
        return
    board = board_store.board_by_id(turn.session, draft.board.id)
    assert board is not None
    completed = change_entry(
        turn.session,
        board=board,
        entry=entry,
        point=draft.point,
        kind=draft.kind,
        text=draft.text,
        point_count=len(turn.model.points),
    )
    turn.out.react()
    if completed:
        queue_completion(turn.out, board_store.board_view(turn.session, board))


@handles(board=Need.LATEST)
def undo(turn: Turn) -> None:
    """Remove the sender's most recent entry on the open board and say which."""
    board = turn.open_board
    person = turn.person
    if person is None:
        return
    if board.status != BoardStatus.OPEN:
        raise Refusal("entry_board_closed", title=board.title)
    removed = entry_store.undo_last(
        turn.session, board=board, author_id=person.id, point_count=len(turn.model.points)
    )
    if removed is None:
        raise Refusal("undo_nothing")
    assert board.id is not None
    mark_changed(turn.session, board.id)
    text = removed.text
    preview = text if len(text) <= UNDO_PREVIEW else text[:UNDO_PREVIEW] + "…"
    turn.answer(
        "undo_done",
        point=turn.model.point(removed.point).heading,
        kind=turn.messages.plain("kind_" + removed.kind),
        text=preview,
    )
