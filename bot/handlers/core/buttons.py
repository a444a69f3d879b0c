"""Buttons: short, versioned, opaque callback data, checked on arrival; one preamble for presses.

`callback_data` is `v1:<action>:<board id>:<argument>` (at most 64 bytes). A press is answered
within Telegram's time, always: with a short notice, or with an alert when it is refused (an
unknown or forged payload, a board that is gone or belongs to another chat, a closed board, a
person without the right, data that is not on a button of the pressed message). Like typed
commands, a press is decided in one unit of work (bot/store/unit.py) and its messages are sent
after the commit. A read-only press (`on_press(read_only=True)`) coalesces
like a read-only command: pressed again on the same message by the same person while its answer
still waits behind the group's limit, only the newest answer goes out (for a press that edits
the pressed message, the newest edit).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session
from telegram import CallbackQuery, InlineKeyboardButton, Message, Update
from telegram.error import TelegramError

from bot.context import BotData, Context
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.reading import Person, Scope, scope_of
from bot.handlers.core.rights import may_moderate, rights_of
from bot.handlers.core.turn import Refusal
from bot.model.board import BoardStatus
from bot.model.catalogue import ModelText
from bot.registry import Registry
from bot.store import boards as board_store
from bot.store import outputs as output_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Messages

log = logging.getLogger(__name__)

VERSION = "v1"
DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data


@dataclass(frozen=True)
class ButtonData:
    """What a button says when pressed."""

    action: str
    board_id: int
    argument: str = ""

    def encode(self) -> str:
        data = f"{VERSION}:{self.action}:{self.board_id}:{self.argument}"
        if len(data.encode("utf-8")) > DATA_LIMIT:
            raise ValueError(f"callback data over {DATA_LIMIT} bytes: {data!r}")
        return data


_NUMBER = re.compile(r"[0-9]+")


def whole_number(text: str, *, digits: int = 9) -> int | None:
    """A button's number: ASCII digits only (no "²", "٣", "+1", "1_0"), at most `digits` of
    them (nine: ids and numbers the bot made; 19 for a Telegram user id); else None."""
    return int(text) if len(text) <= digits and _NUMBER.fullmatch(text) else None


def decode(data: str | None) -> ButtonData | None:
    """The button's data, or None for anything this version did not make."""
    if not data or len(data.encode("utf-8")) > DATA_LIMIT:
        return None
    parts = data.split(":", 3)
    if len(parts) != 4 or parts[0] != VERSION or not parts[1].isalnum():
        return None
    board_id = whole_number(parts[2])
    if board_id is None:
        return None
    return ButtonData(parts[1], board_id, parts[3])


def button(label: str, action: str, board_id: int, argument: object = "") -> InlineKeyboardButton:
    """An inline button with versioned callback data."""
    return InlineKeyboardButton(
        label, callback_data=ButtonData(action, board_id, str(argument)).encode()
    )


@dataclass
class Press:
    """What one button press hands its handler."""

    query: CallbackQuery
    message: Message
    button: ButtonData  # what the pressed button carries
    scope: Scope
    person: Person
    session: Session
    board: Board
    messages: Messages
    data: BotData
    out: Outbox
    moderator: bool
    notice: str = ""  # the short text shown to the person who pressed
    alert: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def model(self) -> ModelText:
        return self.data.model(self.messages.language)

    def tell(self, key: str, **values: object) -> None:
        """A short notice for the person who pressed (plain text, no HTML)."""
        self.notice = self.messages.plain_format(key, **values)

    def cooled_down(
        self, command: str, fingerprint: str, refused: str = "output_cool_down", **values: object
    ) -> bool:
        """The group's cool-down of an output (as for `/board`, `/export`): True when it may
        go out now; else the person is told `refused`."""
        allowed = output_store.claim_heavy_output(
            self.session,
            chat_id=self.scope.chat_id,
            thread_id=self.scope.thread_id,
            command=command,
            fingerprint=fingerprint,
        )
        if not allowed:
            self.tell(refused, **values)
        return allowed


Decide = Callable[[Press], None]


@dataclass(frozen=True)
class Action:
    decide: Decide
    moderator: bool
    needs_open: bool
    private_ok: bool = False  # pressed in a private chat: no chat check, the handler checks rights
    read_only: bool = False  # only shows something: repeated while waiting, the newest goes out


ACTIONS: Registry[Action] = Registry("button action")


def on_press(
    action: str,
    *,
    moderator: bool = False,
    needs_open: bool = True,
    private_ok: bool = False,
    read_only: bool = False,
) -> Callable[[Decide], Decide]:
    """Register the handler of a button action (a short word, letters and digits).

    `private_ok`: the button may sit in a private chat although its board belongs to a group
    (e.g. `/boards`); such a press skips the chat check and its handler checks the rights.
    `read_only`: the press changes nothing, it only shows something (a post, or an edit of the
    pressed message); pressed again by the same person on the same message while the answer
    still waits, only the newest answer goes out.
    """
    if not action.isalnum():
        raise ValueError(f"action must be letters and digits: {action!r}")

    def register(decide: Decide) -> Decide:
        ACTIONS.add(action, Action(decide, moderator, needs_open, private_ok, read_only))
        return decide

    return register


def _person(query: CallbackQuery) -> Person:
    user = query.from_user
    name = (user.first_name or user.username or str(user.id)).replace("\x00", "")
    return Person(user.id, name or str(user.id), user.language_code or "")


Decision = tuple[str, bool, Outbox | None]  # the notice, whether an alert, what to send


def press_key(action: str, scope: Scope, person: Person, message: Message) -> Hashable:
    """What a read-only press's answer coalesces under: the same action pressed by the same
    person on the same message (an edit replaces only an edit of that message; a press on
    another card or plan message is answered on its own)."""
    return ("press", action, scope.chat_id, scope.thread_id, person.id, message.message_id)


def on_keyboard(message: Message, data: str | None) -> bool:
    """Whether `data` is the callback data of a button on the pressed message's keyboard.

    Telegram sends the pressed message with its inline keyboard as it is now; data that is not
    on it was forged, or belongs to buttons the bot has since replaced or taken off.
    """
    markup = message.reply_markup
    if data is None or markup is None:
        return False
    return any(button.callback_data == data for row in markup.inline_keyboard for button in row)


async def pressed(update: Update, context: Context) -> None:
    """The one callback for every board's button: check, decide, commit, answer, then send."""
    query = update.callback_query
    if query is not None:
        await respond(query, context, _decide(query, context))


async def respond(
    query: CallbackQuery, context: Context, decision: Coroutine[Any, Any, Decision]
) -> None:
    """Answer a press with its decision, then send what it queued; a failure is answered
    too (Telegram wants every press answered within its time)."""
    answered = False
    try:
        notice, alert, out = await decision
        await _answer(query, notice, alert)
        answered = True
        if out is not None:
            await out.deliver(context)
    finally:
        if not answered:
            data = context.bot_data
            text = data.messages_for(query.from_user.language_code).plain_format("button_failed")
            await _answer(query, text, True)


async def _answer(query: CallbackQuery, text: str, alert: bool) -> None:
    try:
        await query.answer(text=text[:200] or None, show_alert=alert)
    except TelegramError as exc:  # too late, or answered already: nothing left to do
        log.info("button press %s not answered: %s", query.id, exc)


async def _decide(query: CallbackQuery, context: Context) -> Decision:
    data = context.bot_data
    person = _person(query)
    fallback = data.messages_for(person.language)
    parsed = decode(query.data)
    action = ACTIONS.get(parsed.action) if parsed is not None else None
    message = query.message if isinstance(query.message, Message) else None
    if parsed is None or action is None:
        return fallback.plain_format("button_unknown"), True, None
    if message is None:
        return fallback.plain_format("button_message_gone"), True, None
    scope = scope_of(message)
    admins: frozenset[int] = frozenset()
    if action.moderator and scope.is_group and person.id != scope.chat_id:
        admins = await rights_of(context, scope.chat_id, person.id)
    out = Outbox(scope.chat_id, scope.thread_id)

    def decide_in_unit(unit: UnitOfWork) -> Decision:
        session = unit.session
        if not unit.claim():
            return "", False, None
        board = board_store.board_by_id(session, parsed.board_id)
        if board is None:
            return fallback.plain_format("button_board_gone"), True, None
        messages = data.messages(board.language)
        elsewhere = board.chat_id != scope.chat_id or board.thread_id != scope.thread_id
        if elsewhere and not (action.private_ok and scope.is_private):
            return messages.plain_format("button_foreign"), True, None
        if action.needs_open and board.status != BoardStatus.OPEN:
            return messages.plain_format("button_board_closed", title=board.title), True, None
        moderator = may_moderate(person, scope, admins, board)
        if action.moderator and not moderator:
            return messages.plain_format("button_not_moderator"), True, None
        # (a private-chat button pressed in a group is refused by its own handler, saying
        # where it works)
        refused_anyway = action.private_ok and not scope.is_private
        if not refused_anyway and not on_keyboard(message, query.data):
            return messages.plain_format("press_refused"), True, None
        press = Press(
            query=query,
            message=message,
            button=parsed,
            scope=scope,
            person=person,
            session=session,
            board=board,
            messages=messages,
            data=data,
            out=out,
            moderator=moderator,
        )
        try:
            action.decide(press)
        except Refusal as refusal:
            unit.refuse()
            out.steps.clear()  # nothing decided is sent
            unit.commit()
            return press.messages.plain_format(refusal.key, **refusal.values), True, None
        if action.read_only:
            out.coalesce = press_key(parsed.action, scope, person, message)
        unit.commit()  # with the decided sends (SPEC §12)
        return press.notice, press.alert, out

    return await data.run_unit(scope.chat_id, decide_in_unit, stored=out)
