"""What an update sends, decided in its unit of work and sent only after the commit.

The outbox is durable (SPEC §12): `persist(session)` writes each message the unit of work
decided into `outbox_send` in the same transaction as its effects; after the commit `deliver`
sends them in order through the retry and pacing layer (bot/ratelimit.py) and marks each one
sent. A process that stops before (SIGTERM past the grace period, kill -9) leaves the rows
unsent, and `deliver_unsent` sends them on the next start — once, in order per chat; a row
older than 12 hours by then is dropped and counted. The one window left: a crash between
Telegram's answer and marking the row sent repeats that one send.

What a send does with Telegram's answer (remember a card's message id …) is a named
continuation (`@continuation("name")`, `Then(name, args)`) with stored arguments, so it runs
after a restart too. `then(step)` still takes any other send as a closure: it is not durable.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackContext

from bot import metrics
from bot.context import Context
from bot.handlers.send import ChatGone, ReplyMarkup, acknowledge, send_html
from bot.ratelimit import PostingRateLimiter
from bot.store import outbox as rows
from bot.store.tables import OutboxSend, utcnow
from bot.texts import Html
from bot.updates.unit import current_update_id, defer_send, send_later, sending_later

log = logging.getLogger(__name__)

Step = Callable[[Context], Awaitable[None]]
Continuation = Callable[[Context, Message, dict[str, Any]], Awaitable[None]]
KEEP_UNSENT = timedelta(hours=12)  # older than this when it could go out: dropped
KEEP_SENT = timedelta(days=1)

CONTINUATIONS: dict[str, Continuation] = {}


def continuation(name: str) -> Callable[[Continuation], Continuation]:
    """Register what to do with Telegram's answer to a send, by a name stored with the send."""

    def register(function: Continuation) -> Continuation:
        if name in CONTINUATIONS:
            raise ValueError(f"continuation {name!r} registered twice")
        CONTINUATIONS[name] = function
        return function

    return register


@dataclass(frozen=True)
class Then:
    """A registered continuation and its arguments (JSON: numbers, strings, lists, dicts)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Planned:
    """One message decided: where, what, and what to do with the answer."""

    chat_id: int
    thread_id: int
    text: str
    reply_to: int | None
    markup: ReplyMarkup | None
    then: Then | None
    row_id: int | None = None  # once persisted

    def payload(self) -> str:
        markup: dict[str, Any] | None = None
        if isinstance(self.markup, InlineKeyboardMarkup):
            markup = {"inline": self.markup.to_dict()}
        elif isinstance(self.markup, ForceReply):
            markup = {"force_reply": self.markup.to_dict()}
        then = None if self.then is None else {"name": self.then.name, "args": self.then.args}
        return json.dumps(
            {
                "thread_id": self.thread_id,
                "text": self.text,
                "reply_to": self.reply_to,
                "markup": markup,
                "then": then,
            },
            ensure_ascii=False,
        )

    @classmethod
    def of_row(cls, row: OutboxSend) -> _Planned:
        data = json.loads(row.payload)
        markup: ReplyMarkup | None = None
        stored = data.get("markup") or {}
        if "inline" in stored:
            markup = InlineKeyboardMarkup.de_json(stored["inline"], None)
        elif "force_reply" in stored:
            markup = ForceReply.de_json(stored["force_reply"], None)
        then = data.get("then")
        return cls(
            chat_id=row.chat_id,
            thread_id=int(data.get("thread_id") or 0),
            text=str(data["text"]),
            reply_to=data.get("reply_to"),
            markup=markup,
            then=None if then is None else Then(then["name"], dict(then.get("args") or {})),
            row_id=row.id,
        )

    async def send(self, context: Context) -> None:
        """Send, run the continuation, mark the row sent (or refused for good)."""
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
            self._settle(context, rows.REFUSED)
            raise
        if self.then is not None:
            try:
                follow = CONTINUATIONS[self.then.name]
                await follow(context, sent, self.then.args)
            finally:
                self._settle(context, rows.SENT)
        else:
            self._settle(context, rows.SENT)

    def _settle(self, context: Context, outcome: str) -> None:
        if self.row_id is None:
            return
        with context.bot_data.session() as session:
            rows.settle_send(session, send_id=self.row_id, outcome=outcome)
            session.commit()


Later = Callable[[Message], Step] | Then


@dataclass
class Outbox:
    """Sends for one chat and topic, in order; `reply_to` is the message being answered."""

    chat_id: int
    thread_id: int
    reply_to: int | None = None
    steps: list[Step] = field(default_factory=list)
    _reactions: set[Step] = field(default_factory=set, init=False, repr=False)  # deferrable
    _planned: dict[Step, _Planned] = field(default_factory=dict, init=False, repr=False)
    # a read-only answer: while one with the same key still waits, only the newest goes out
    coalesce: Hashable | None = None

    def answer(
        self, text: Html, markup: ReplyMarkup | None = None, then: Later | None = None
    ) -> None:
        """Answer the person's message, as a reply (with buttons, if given)."""
        self._send(text, markup, then, reply=True)

    def post(
        self, text: Html, then: Later | None = None, markup: ReplyMarkup | None = None
    ) -> None:
        """Post a message in the chat; `then` may act on what Telegram returned (durable when
        it is a named continuation, `Then`)."""
        self._send(text, markup, then, reply=False)

    def _send(
        self, text: Html, markup: ReplyMarkup | None, then: Later | None, *, reply: bool
    ) -> None:
        chat, thread = self.chat_id, self.thread_id
        reply_to = self.reply_to if reply else None
        if then is None or isinstance(then, Then):
            planned = _Planned(chat, thread, str(text), reply_to, markup, then)
            self.steps.append(planned.send)
            self._planned[planned.send] = planned
            return
        closure = then

        async def step(context: Context) -> None:
            sent = await send_html(context, chat, thread, text, reply_to=reply_to, markup=markup)
            await closure(sent)(context)

        self.steps.append(step)

    def react(self) -> None:
        """Acknowledge the person's message with a reaction (nothing else if refused)."""
        chat, reply = self.chat_id, self.reply_to
        if reply is None:
            return

        async def step(context: Context) -> None:
            await acknowledge(context, chat, reply)

        self.steps.append(step)
        self._reactions.add(step)

    def then(self, step: Step) -> None:
        """Any other send, in order with the rest (not durable: prefer `post` with `Then`)."""
        self.steps.append(step)

    def persist(self, session: Any) -> None:
        """Store the messages decided so far with the unit of work (call before its commit)."""
        waiting = [p for step in self.steps if (p := self._planned.get(step)) and p.row_id is None]
        if not waiting:
            return
        ids = rows.add_sends(
            session,
            sends=[(p.chat_id, "message", p.payload()) for p in waiting],
            update_id=current_update_id(),
        )
        for planned, row_id in zip(waiting, ids, strict=True):
            planned.row_id = row_id

    def forget_persisted(self) -> None:
        """The unit of work rolled back: its rows are gone with it."""
        for planned in self._planned.values():
            planned.row_id = None

    async def deliver(self, context: Context) -> None:
        """Send in order. A reaction may be handed to the pipeline instead (bot/updates/unit.py):
        it only marks the person's message, so the chat's next update need not wait for
        Telegram's answer to it."""
        # reactions first: they only mark the person's message, whatever else waits
        steps = [
            step
            for step in self.steps
            if not (step in self._reactions and defer_send(functools.partial(step, context)))
        ]
        for index, step in enumerate(steps):
            planned = self._planned.get(step)
            stored = planned is not None and planned.row_id is not None
            if sending_later(self.chat_id) or (stored and _post_waits(context, self.chat_id)):
                # held back by the group's limit, a stored post (and what follows it) goes out
                # behind the chat's waiting posts while the chat's next update goes on (in order
                # per chat; a stop leaves them in the outbox); while the chat's sender is busy,
                # any other send queues behind it, to keep the order
                rest = steps[index:]
                run = functools.partial(_in_order, rest, context)
                drop = functools.partial(self._superseded, rest, context)
                if send_later(self.chat_id, run, key=self.coalesce, drop=drop):
                    return
            await step(context)

    def _superseded(self, steps: list[Step], context: Context) -> None:
        """A newer answer to the same read-only command replaces these waiting ones."""
        for step in steps:
            planned = self._planned.get(step)
            if planned is not None:
                planned._settle(context, rows.SUPERSEDED)


def _post_waits(context: Context, chat_id: int) -> bool:
    """Whether the pacing layer would hold a post to the chat back now (else it goes in line,
    and what its continuation remembers is there before the chat's next update)."""
    limiter = getattr(context.bot, "rate_limiter", None)
    return isinstance(limiter, PostingRateLimiter) and limiter.post_waits(chat_id)


async def _in_order(steps: list[Step], context: Context) -> None:
    for step in steps:
        await step(context)


# ---- after a restart --------------------------------------------------------------------------


async def deliver_unsent(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Send what the outbox holds unsent (from before a stop or a crash), in order per chat;
    drop what is older than 12 hours by now (counted). How many were sent."""
    context: Context = CallbackContext(application)
    data = context.bot_data

    def read() -> list[OutboxSend]:
        with data.session() as session:
            return rows.unsent(session)

    pending = await data.lanes.run(None, read)
    if not pending:
        return 0
    log.info("outbox: %s sends left from before, sending them", len(pending))
    per_chat: dict[int, list[_Planned]] = {}
    too_old = utcnow() - KEEP_UNSENT
    for row in pending:
        planned = _Planned.of_row(row)
        if row.created_at < too_old:
            planned._settle(context, rows.DROPPED)
            metrics.outbox_dropped()
            continue
        per_chat.setdefault(row.chat_id, []).append(planned)

    async def chat_in_order(sends: list[_Planned]) -> int:
        done = 0
        for planned in sends:
            try:
                await planned.send(context)
                done += 1
            except ChatGone:
                return done
            except Exception as exc:  # refused for good (marked) or the network: next start
                log.warning("outbox: a send to %s failed: %s", planned.chat_id, type(exc).__name__)
        return done

    counts = await asyncio.gather(*(chat_in_order(s) for s in per_chat.values()))
    return sum(counts)


def purge(data: Any) -> int:
    """Forget sends made more than a day ago."""
    with data.session() as session:
        removed = rows.purge_sent(session, before=utcnow() - KEEP_SENT)
        session.commit()
        return removed
