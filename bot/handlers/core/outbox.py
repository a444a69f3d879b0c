"""What an update sends, decided in its unit of work and sent only after the commit.

The outbox is durable (SPEC §12): `persist(session)` writes each message the unit of work
decided into `outbox_send` in the same transaction as its effects; after the commit `deliver`
sends them in order through the retry and pacing layer (bot/ratelimit.py) and marks each one
sent. A process that stops before (SIGTERM past the grace period, kill -9) leaves the rows
unsent, and the next start sends them (bot/handlers/core/unsent.py) — once, in order per chat; a row
older than 12 hours by then is dropped and counted. The one window left: a crash between
Telegram's answer and marking the row sent repeats that one send.

What a send does with Telegram's answer (remember a card's message id …) is a named
continuation (`@continuation("name")`, `Then(name, args)`) with stored arguments, so it runs
after a restart too. Every other send (an edit, a pin, a poll, the board's image, the export's
files …) is a named stored send kind (`@action("name")`, `Do(name, args)`): its arguments say
what to send — for heavy outputs what to render (a board's id and the kind), not the bytes —
and it is rendered and sent when the row goes out. No closure is kept in the outbox.

Reactions alone are not stored: they only mark the person's message, go out first (or from the
pipeline, bot/updates/handling.py), and a crash before one is sent loses only that mark.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden

from bot.context import Context
from bot.handlers.core import chat_claims
from bot.handlers.core.send import ChatGone, ReplyMarkup, acknowledge, edit_html, send_html
from bot.ratelimit import PostingRateLimiter
from bot.registry import Registry
from bot.store import outbox as rows
from bot.store.erasure import ERASED
from bot.store.tables import OutboxSend, utcnow
from bot.store.unit import UnitOfWork
from bot.texts import Html
from bot.updates.handling import current_update_id, defer_send, send_later, sending_later

log = logging.getLogger(__name__)

Step = Callable[[Context], Awaitable[None]]
Continuation = Callable[[Context, Message, dict[str, Any]], Awaitable[None]]
Action = Callable[[Context, int, int, dict[str, Any]], Awaitable[None]]
KEEP_UNSENT = timedelta(hours=12)  # older than this when it could go out: dropped
KEEP_SENT = timedelta(days=1)

CONTINUATIONS: Registry[Continuation] = Registry("continuation")
ACTIONS: Registry[Action] = Registry("send kind")


def continuation(name: str) -> Callable[[Continuation], Continuation]:
    """Register what to do with Telegram's answer to a send, by a name stored with the send."""
    return CONTINUATIONS.register(name)


def action(name: str) -> Callable[[Action], Action]:
    """Register a stored send kind: `(context, chat_id, thread_id, args)` sends what `args`
    (stored JSON) describe, rendering it first if need be."""
    return ACTIONS.register(name)


@dataclass(frozen=True)
class Do:
    """A registered send kind and its arguments (JSON: numbers, strings, lists, dicts)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


def markup_json(markup: ReplyMarkup | None) -> dict[str, Any] | None:
    """A reply markup as stored JSON (None for none)."""
    if isinstance(markup, InlineKeyboardMarkup):
        return {"inline": markup.to_dict()}
    if isinstance(markup, ForceReply):
        return {"force_reply": markup.to_dict()}
    return None


def markup_of(stored: dict[str, Any] | None) -> ReplyMarkup | None:
    """The reply markup stored by `markup_json`."""
    stored = stored or {}
    if "inline" in stored:
        return InlineKeyboardMarkup.de_json(stored["inline"], None)
    if "force_reply" in stored:
        return ForceReply.de_json(stored["force_reply"], None)
    return None


def inline_of(stored: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    markup = markup_of(stored)
    return markup if isinstance(markup, InlineKeyboardMarkup) else None


@dataclass(frozen=True)
class Then:
    """A registered continuation and its arguments (JSON: numbers, strings, lists, dicts)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Planned:
    """One message decided: where, what, and what to do with the answer."""

    chat_id: int
    thread_id: int
    text: str
    reply_to: int | None
    markup: ReplyMarkup | None
    then: Then | None
    do: Do | None = None  # a stored send kind instead of a message
    row_id: int | None = None  # once persisted
    lease_until: datetime | None = None  # this process's claim on the row
    read_back: bool = False  # read from the outbox (not as decided, in memory)
    outcome: str | None = None  # once marked: sent, refused, dropped

    @property
    def kind(self) -> str:
        return "message" if self.do is None else "action"

    def payload(self) -> str:
        then = None if self.then is None else {"name": self.then.name, "args": self.then.args}
        do = None if self.do is None else {"name": self.do.name, "args": self.do.args}
        return json.dumps(
            {
                "thread_id": self.thread_id,
                "text": self.text,
                "reply_to": self.reply_to,
                "markup": markup_json(self.markup),
                "then": then,
                "do": do,
            },
            ensure_ascii=False,
        )

    @classmethod
    def of_row(cls, row: OutboxSend) -> Planned:
        data = json.loads(row.payload)
        then = data.get("then")
        do = data.get("do")
        return cls(
            chat_id=row.chat_id,
            thread_id=int(data.get("thread_id") or 0),
            text=str(data.get("text") or ""),
            reply_to=data.get("reply_to"),
            markup=markup_of(data.get("markup")),
            then=None if then is None else Then(then["name"], dict(then.get("args") or {})),
            do=None if do is None else Do(do["name"], dict(do.get("args") or {})),
            row_id=row.id,
            lease_until=row.claimed_until,
            read_back=True,
        )

    async def still_ours(self, context: Context) -> bool:
        """Whether this process may send the row: its claim holds for a while yet, or is
        renewed now (a claim is renewed when half its lease is gone; another process takes a
        row over only after the lease ran out)."""
        if self.row_id is None or self.lease_until is None:
            return True
        if utcnow() < self.lease_until - rows.LEASE / 2:
            return True
        data, row_id = context.bot_data, self.row_id

        def renew(unit: UnitOfWork) -> datetime | None:
            session = unit.session
            until = rows.renew_claim(session, send_id=row_id)
            unit.commit()
            return until

        self.lease_until = await data.run_unit(self.chat_id, renew)
        if self.lease_until is None:
            log.info("outbox: send %s is another process's now", row_id)
            return False
        return True

    async def send(self, context: Context) -> None:
        """Send, run the continuation, mark the row sent (or refused for good)."""
        if self._went_out_read_back(context) or not await self.still_ours(context):
            return
        if self.do is not None:
            running = _RUNNING.set(self)
            try:
                await ACTIONS[self.do.name](context, self.chat_id, self.thread_id, self.do.args)
            except (ChatGone, BadRequest, Forbidden):
                await self.settle(context, rows.REFUSED)
                raise
            finally:
                _RUNNING.reset(running)
            await self.settle(context, rows.SENT)
            return
        try:
            sent = await send_html(
                context,
                self.chat_id,
                self.thread_id,
                self.text,
                reply_to=self.reply_to,
                markup=self.markup,
            )
        except (ChatGone, BadRequest, Forbidden):
            await self.settle(context, rows.REFUSED)
            raise
        if self.then is not None:
            try:
                follow = CONTINUATIONS[self.then.name]
                await follow(context, sent, self.then.args)
            finally:
                await self.settle(context, rows.SENT)
        else:
            await self.settle(context, rows.SENT)

    def _went_out_read_back(self, context: Context) -> bool:
        """Several processes: the chat's holder read this row back (with the rows others left
        to it) and sent it before its turn came here, as decided."""
        if self.read_back or self.row_id is None:
            return False
        delivery = chat_claims.of_engine(context.bot_data.engine)
        return delivery is not None and delivery.drained(self.row_id)

    async def settle(self, context: Context, outcome: str) -> None:
        """Mark the row, in the chat's database lane (never a blocking write on the loop)."""
        if self.row_id is None:
            return
        self.outcome = outcome
        data = context.bot_data
        await data.run_unit(self.chat_id, functools.partial(self.settle_now, outcome))

    def settle_now(self, outcome: str, unit: UnitOfWork) -> None:
        if self.row_id is None:
            return
        if self.do is not None and self.do.args.get("scrub"):
            # its text named what was just erased: no row kept, no copy in the write-ahead log
            rows.forget_send(unit.session, send_id=self.row_id)
            unit.session.info[ERASED] = True
        else:
            rows.settle_send(unit.session, send_id=self.row_id, outcome=outcome)
        unit.commit()

    async def note_parts(self, context: Context, done: int) -> None:
        """A send of several parts: `done` of them went out (a restart goes on after them)."""
        if self.do is None:
            return
        self.do.args[PARTS_DONE] = done
        if self.row_id is None:
            return
        data, row_id, payload = context.bot_data, self.row_id, self.payload()

        def note(unit: UnitOfWork) -> None:
            session = unit.session
            rows.note_progress(session, send_id=row_id, payload=payload)
            unit.commit()

        await data.run_unit(self.chat_id, note)


PARTS_DONE = "parts_done"
_RUNNING: ContextVar[Planned | None] = ContextVar("outbox_running", default=None)


class Parts:
    """A stored send kind that sends several messages (the board's texts and image, the
    export's files) counts them here, so a restart sends only those not sent yet: the window
    in which a crash repeats a send stays one message wide.

        parts = Parts(context, args)
        if parts.due():
            await send_…
            await parts.sent()
    """

    def __init__(self, context: Context, args: dict[str, Any]) -> None:
        self.context = context
        self.done = int(args.get(PARTS_DONE) or 0)
        self.index = 0
        self.planned = _RUNNING.get()

    def due(self) -> bool:
        return self.index >= self.done

    async def sent(self) -> None:
        self.index += 1
        if self.index > self.done:
            self.done = self.index
            if self.planned is not None:
                await self.planned.note_parts(self.context, self.done)


@dataclass
class Outbox:
    """Sends for one chat and topic, in order; `reply_to` is the message being answered."""

    chat_id: int
    thread_id: int
    reply_to: int | None = None
    steps: list[Step] = field(default_factory=list)
    _reactions: set[Step] = field(default_factory=set, init=False, repr=False)  # deferrable
    _planned: dict[Step, Planned] = field(default_factory=dict, init=False, repr=False)
    # a read-only answer: while one with the same key still waits, only the newest goes out
    coalesce: Hashable | None = None
    # counters (bot/metrics.py) raised once the unit of work is committed: no send, not stored
    counters: list[Callable[[], None]] = field(default_factory=list)
    # several processes: whether this process sends the stored rows (bot/handlers/core/chat_claims.py)
    _holding: str | None = field(default=None, init=False, repr=False)

    def answer(
        self, text: Html, markup: ReplyMarkup | None = None, then: Then | None = None
    ) -> None:
        """Answer the person's message, as a reply (with buttons, if given)."""
        self._send(text, markup, then, reply=True)

    def post(self, text: Html, then: Then | None = None, markup: ReplyMarkup | None = None) -> None:
        """Post a message in the chat; `then` may act on what Telegram returned (durable when
        it is a named continuation, `Then`)."""
        self._send(text, markup, then, reply=False)

    def _send(
        self, text: Html, markup: ReplyMarkup | None, then: Then | None, *, reply: bool
    ) -> None:
        reply_to = self.reply_to if reply else None
        self._plan(Planned(self.chat_id, self.thread_id, str(text), reply_to, markup, then))

    def do(self, name: str, **args: Any) -> None:
        """Any other send, in order with the rest: a registered send kind (`@action`) and
        its stored arguments."""
        if name not in ACTIONS:
            raise ValueError(f"unknown send kind {name!r}")
        json.dumps(args)  # stored as JSON: fail here, not at the commit
        self._plan(Planned(self.chat_id, self.thread_id, "", None, None, None, Do(name, args)))

    def count(self, counter: Callable[[], None]) -> None:
        """Raise a counter (bot/metrics.py) once the unit of work is committed."""
        self.counters.append(counter)

    def edit(
        self,
        message_id: int,
        text: Html,
        markup: InlineKeyboardMarkup | None = None,
        *,
        scrub: bool = False,
    ) -> None:
        """Replace the text (and buttons) of the bot's message `message_id` in this chat;
        `scrub`: the text names what the unit of work erased, so no copy of the row is left
        once it is sent (bot/store/scrubbing.py)."""
        self.do(
            "edit", message_id=message_id, text=str(text), markup=markup_json(markup), scrub=scrub
        )

    def _plan(self, planned: Planned) -> None:
        self.steps.append(planned.send)
        self._planned[planned.send] = planned

    def react(self) -> None:
        """Acknowledge the person's message with a reaction (nothing else if refused)."""
        chat, reply = self.chat_id, self.reply_to
        if reply is None:
            return

        async def step(context: Context) -> None:
            await acknowledge(context, chat, reply)

        self.steps.append(step)
        self._reactions.add(step)

    def persist(self, session: Any) -> None:
        """Store the messages decided so far with the unit of work (call before its commit)."""
        waiting = [p for step in self.steps if (p := self._planned.get(step)) and p.row_id is None]
        if not waiting:
            return
        # several processes: who sends the chat's rows (taken before the rows get their ids)
        self._holding = chat_claims.take(session, self.chat_id)
        ids = rows.add_sends(
            session,
            sends=[(p.chat_id, p.kind, p.payload()) for p in waiting],
            update_id=current_update_id(),
        )
        until = utcnow() + rows.LEASE
        for planned, row_id in zip(waiting, ids, strict=True):
            planned.row_id = row_id
            planned.lease_until = until

    async def deliver(self, context: Context) -> None:
        """Send in order. A reaction may be handed to the pipeline instead (bot/updates/handling.py):
        it only marks the person's message, so the chat's next update need not wait for
        Telegram's answer to it."""
        counters, self.counters = self.counters, []
        for counter in counters:
            counter()
        # reactions first: they only mark the person's message, whatever else waits
        steps = [
            step
            for step in self.steps
            if not (step in self._reactions and defer_send(functools.partial(step, context)))
        ]
        holding, self._holding = self._holding, None
        delivery = None if holding is None else chat_claims.of_engine(context.bot_data.engine)
        if delivery is None:
            await self._send_steps(context, steps)
            return
        if holding != chat_claims.MINE:
            # another process sends the stored rows, or this one reads them back behind the
            # rows others left (strictly in row-id order): only what is not stored goes here
            steps = [step for step in steps if not self._stored(step)]
        try:
            with delivery.senders.in_line(self.chat_id):
                await self._send_steps(context, steps)
        finally:
            if holding != chat_claims.THEIRS:  # the chat's rows left meanwhile, then let go
                delivery.wake(self.chat_id)

    async def _send_steps(self, context: Context, steps: list[Step]) -> None:
        for index, step in enumerate(steps):
            planned = self._planned.get(step)
            stored = planned is not None and planned.row_id is not None
            if sending_later(self.chat_id) or (stored and _post_waits(context, self.chat_id)):
                # held back by the group's limit, a stored post (and what follows it) goes out
                # behind the chat's waiting posts while the chat's next update goes on (in order
                # per chat; a stop leaves them in the outbox); while the chat's sender is busy,
                # any other send queues behind it, to keep the order
                rest = steps[index:]
                ids = self._stored_ids(rest)
                run = functools.partial(_in_order, rest, context)
                drop = functools.partial(supersede, context, self.chat_id, ids) if ids else None
                later = None
                if ids and len(ids) == len(rest):  # all of them stored: can be read back
                    later = functools.partial(send_stored, context, self.chat_id, ids)
                if send_later(self.chat_id, run, key=self.coalesce, drop=drop, stored=later):
                    return
            await step(context)

    def _stored(self, step: Step) -> bool:
        planned = self._planned.get(step)
        return planned is not None and planned.row_id is not None

    def _stored_ids(self, steps: list[Step]) -> list[int]:
        """The rows of those of these sends that are stored, in order."""
        planned = (self._planned.get(step) for step in steps)
        return [p.row_id for p in planned if p is not None and p.row_id is not None]


_SETTLING: set[asyncio.Task[None]] = set()  # superseded rows being marked (kept from the GC)


def supersede(context: Context, chat_id: int, ids: list[int]) -> None:
    """A newer answer to the same read-only command replaces these waiting ones: their rows are
    marked in the chat's database lane (never a blocking write on the loop)."""
    data = context.bot_data

    def settle(unit: UnitOfWork) -> None:
        session = unit.session
        rows.settle_sends(session, send_ids=ids, outcome=rows.SUPERSEDED)
        unit.commit()

    task = asyncio.get_running_loop().create_task(_quietly(data.run_unit(chat_id, settle)))
    _SETTLING.add(task)
    task.add_done_callback(_SETTLING.discard)


async def _quietly(settling: Awaitable[None]) -> None:
    try:
        await settling
    except Exception as exc:  # left unsent: the next start sends the older answer too
        log.warning("outbox: superseded sends not marked: %s", type(exc).__name__)


async def send_stored(context: Context, chat_id: int, ids: list[int]) -> None:
    """Send the chat's rows `ids` (this process's, unsent) read back from the outbox, in order:
    the sends a chat's sender did not keep in memory (bot/updates/senders.py)."""
    if not ids:
        return
    data = context.bot_data

    def read(unit: UnitOfWork) -> list[OutboxSend]:
        session = unit.session
        return rows.unsent_of(session, ids=ids)

    stored = await data.run_unit(chat_id, read)
    await _in_order([Planned.of_row(row).send for row in stored], context)


@action("reply")
async def _reply(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """A message replying to a given one (a tap's card, say), with its markup if any."""
    await send_html(
        context,
        chat,
        thread,
        str(args["text"]),
        reply_to=args.get("reply_to"),
        markup=markup_of(args.get("markup")),
    )


@action("say")
async def _say(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """A text without parameters, in the given language (`messages(key)`)."""
    messages = context.bot_data.messages(str(args["language"]))
    await send_html(context, chat, thread, messages(str(args["key"])))


@action("edit")
async def _edit(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """Replace a bot message's text and buttons (best effort, bot/handlers/core/send.py)."""
    await edit_html(
        context, chat, int(args["message_id"]), str(args["text"]), inline_of(args.get("markup"))
    )


def _post_waits(context: Context, chat_id: int) -> bool:
    """Whether the pacing layer would hold a post to the chat back now (else it goes in line,
    and what its continuation remembers is there before the chat's next update)."""
    limiter = getattr(context.bot, "rate_limiter", None)
    return isinstance(limiter, PostingRateLimiter) and limiter.post_waits(chat_id)


async def _in_order(steps: list[Step], context: Context) -> None:
    for step in steps:
        await step(context)
