"""The handler preamble, written once: what an update brings, checked, in one unit of work.

A handler is a plain function `decide(turn)`: it reads and writes through `turn.session` and
puts what should be sent into `turn.out`. The decorator `handles` does the rest, in this order:
ask Telegram for the group's administrators if rights matter (before any session is open);
open one unit of work (bot/store/unit.py) in the chat's database lane; claim the update (a
redelivery changes nothing); find the board; refuse what the person may not do; run `decide`;
commit, with the decided sends in the outbox — and only then talk to Telegram.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, TypeVar

from sqlmodel import Session
from telegram import Message, Update
from telegram.constants import ChatType

from bot.context import BotData, Context, Recently
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.reading import Person, Scope, command_arguments, person_of, scope_of
from bot.handlers.core.rights import is_anonymous_admin, may_moderate, rights_of
from bot.model.catalogue import ModelText
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import entries as entry_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Messages

T = TypeVar("T")


class Where(Enum):
    """Where a command may be used."""

    ANYWHERE = auto()
    GROUP = auto()
    PRIVATE = auto()


class Need(Enum):
    """Which board a handler works on."""

    NONE = auto()  # none needed; the latest one here, if any, sets the language
    OWN = auto()  # the handler finds its board itself (a reply names its card's board)
    OPEN = auto()  # the open board of this chat and topic
    LATEST = auto()  # the open board, else the most recent closed one


class Refusal(Exception):
    """The update cannot be done: answer with this sentence, change nothing."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass
class Turn:
    """What one update hands its handler."""

    update: Update
    message: Message
    scope: Scope
    person: Person | None
    session: Session
    board: Board | None
    messages: Messages
    data: BotData
    out: Outbox
    moderator: bool
    bot_id: int
    # which of its answers a read-only command gave: answers of one kind coalesce, so a note
    # such as the cool-down's "see above" never replaces the output it points to
    answer_kind: str = ""

    @property
    def model(self) -> ModelText:
        return self.data.model(self.messages.language)

    @property
    def open_board(self) -> Board:
        """The board of a handler that declared it needs one."""
        assert self.board is not None
        return self.board

    def argument(self) -> str:
        """Everything after the command word."""
        return command_arguments(self.message)

    def parsed(self, parse: Callable[[str], T | None], *, usage: str, unknown: str) -> T:
        """The command's argument read by `parse`, or a refusal that says what would work."""
        argument = self.argument().strip()
        if not argument:
            raise Refusal(usage)
        value = parse(argument)
        if value is None:
            raise Refusal(unknown, given=argument[:60])
        return value

    def answer(self, key: str, **values: object) -> None:
        self.out.answer(self.messages(key, **values))

    def latest_board(self) -> Board | None:
        """The open board here, else the most recent closed one (for handlers with Need.OWN)."""
        if not self.scope.is_group:
            return None
        return board_store.latest_board(
            self.session, chat_id=self.scope.chat_id, thread_id=self.scope.thread_id
        )

    def speak(self, language: str) -> None:
        """From now on, answer in this language (e.g. after `/lang`)."""
        self.messages = self.data.messages(language)

    def coalesce_key(self, command: str) -> Hashable | None:
        """What the answer of a read-only `command` coalesces under: the same person's same
        command (and kind of answer) in this chat and topic."""
        user = self.message.from_user
        if user is None:
            return None
        return (command, self.answer_kind, self.scope.chat_id, self.scope.thread_id, user.id)


Decide = Callable[[Turn], None]
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def language_for(data: BotData, board: Board | None, scope: Scope, person: Person | None) -> str:
    """The board's language, else the person's in a private chat, else the default."""
    if board is not None:
        return board.language
    private = scope.chat_type == ChatType.PRIVATE
    if private and person is not None and person.language in data.texts.languages:
        return person.language
    return data.settings.bot_language


Noted = list[tuple[Recently, object]]


def _note_presence(session: Session, data: BotData, scope: Scope, person: Person | None) -> Noted:
    """The group speaks, so the bot is in it; the person was seen there (written once in a
    while, not for every update). Returns what to remember as written once committed."""
    noted: Noted = []
    if not data.active_chats.fresh(scope.chat_id):
        chat_store.chat_came_back(session, chat_id=scope.chat_id)
        noted.append((data.active_chats, scope.chat_id))
    if person is None or is_anonymous_admin(person, scope):
        return noted
    key = (scope.chat_id, person.id, person.name)
    if not data.seen_members.fresh(key):
        chat_store.note_member(
            session, chat_id=scope.chat_id, person_id=person.id, name=person.name
        )
        noted.append((data.seen_members, key))
    return noted


def _board_for(session: Session, scope: Scope, need: Need) -> Board | None:
    if not scope.is_group or need is Need.OWN:
        return None
    if need is Need.OPEN:
        return board_store.open_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)
    return board_store.latest_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)


def _refusal(turn: Turn, where: Where, need: Need, moderator: bool) -> str | None:
    scope = turn.scope
    if (where is Where.GROUP or need in (Need.OPEN, Need.LATEST)) and not scope.is_group:
        return "group_only"
    if where is Where.PRIVATE and not scope.is_private:
        return "private_only"
    if need in (Need.OPEN, Need.LATEST) and turn.board is None:
        return "no_board"
    if moderator and not turn.moderator:
        return "not_moderator"
    return None


def handles(
    *,
    where: Where = Where.ANYWHERE,
    board: Need = Need.NONE,
    moderator: bool = False,
    read_only: bool = False,
) -> Callable[[Decide], Callback]:
    """Make `decide(turn)` a python-telegram-bot callback with the preamble above.

    `read_only`: the command only shows something; repeated by the same person while the answer
    still waits behind the group's limit, only the newest answer goes out."""

    def wrap(decide: Decide) -> Callback:
        @functools.wraps(decide)
        async def callback(update: Update, context: Context) -> None:
            message = update.effective_message
            if message is None:
                return
            coalesce = decide.__name__ if read_only else None
            out = await run_turn(
                update, context, message, decide, where, board, moderator, coalesce=coalesce
            )
            if out is not None:
                await out.deliver(context)

        return callback

    return wrap


async def run_turn(
    update: Update,
    context: Context,
    message: Message,
    decide: Decide,
    where: Where,
    need: Need,
    moderator: bool,
    *,
    coalesce: str | None = None,
) -> Outbox | None:
    """Check, decide, write and commit; return what to send (None for a redelivered update).

    `coalesce`: the command only shows something; its answer, repeated by the same person
    while the last one still waits behind the group's limit, goes out only as the newest
    (`Turn.coalesce_key`)."""
    data = context.bot_data
    scope = scope_of(message)
    person = person_of(message)
    admins: frozenset[int] = frozenset()
    asks_rights = moderator and scope.is_group and person is not None
    if asks_rights and person is not None and not is_anonymous_admin(person, scope):
        admins = await rights_of(context, scope.chat_id, person.id)
    out = Outbox(scope.chat_id, scope.thread_id, message.message_id)
    bot_id = context.bot.id

    def decide_in_unit(unit: UnitOfWork) -> bool:
        session = unit.session
        if not unit.claim():
            # a redelivery changes nothing; an update whose process died after its commit
            # may repeat what is safe to repeat: the reaction on a stored entry
            if unit.resumed and person is not None:
                stored = entry_store.entry_by_message(
                    session, chat_id=message.chat.id, message_id=message.message_id
                )
                if stored is not None and stored.author_id == person.id:
                    out.react()
                    return True
            return False
        noted = _note_presence(session, data, scope, person) if scope.is_group else []
        found = _board_for(session, scope, need)
        turn = Turn(
            update=update,
            message=message,
            scope=scope,
            person=person,
            session=session,
            board=found,
            messages=data.messages(language_for(data, found, scope, person)),
            data=data,
            out=out,
            moderator=may_moderate(person, scope, admins, found),
            bot_id=bot_id,
        )
        refused = _refusal(turn, where, need, moderator)
        if refused is not None:
            out.answer(turn.messages(refused))
        else:
            try:
                decide(turn)
            except Refusal as refusal:
                unit.refuse()  # also of the presence: written again
                if scope.is_group:
                    _note_presence(session, data, scope, person)
                out.steps.clear()
                out.answer(turn.messages(refusal.key, **refusal.values))
        if coalesce is not None:
            out.coalesce = turn.coalesce_key(coalesce)
        for recently, key in noted:
            unit.after_commit(functools.partial(recently.note, key))
        unit.commit()  # with the decided sends (SPEC §12)
        return True

    # batched with other units waiting at the same moment, in the chat's database lane: worker
    # threads for PostgreSQL, short slices of the event loop for SQLite (bot/store/lanes.py)
    return out if await data.run_unit(scope.chat_id, decide_in_unit, stored=out) else None
