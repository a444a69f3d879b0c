"""From the inbox through the handlers: each update once, a chat's updates in order.

Every update is stored in the inbox (`inbox_update`) before Telegram is told it arrived. It is
then run through `Application.process_update` as the update being handled (bot/updates/handling.py); the
handler that writes claims it in its own transaction, and afterwards the pipeline marks it
processed in a short session of its own (updates no handler wrote for). A failed update is
counted and tried again a bounded number of times, then set aside (bot/store/deadletters.py);
so is an update that cannot be parsed. Either way its chat goes on with the next update.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import functools
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.ratelimit import PostingRateLimiter
from bot.store import deadletters
from bot.store import inbox as inbox_store
from bot.store import outbox as outbox_rows
from bot.store.db import session_scope
from bot.store.lanes import DatabaseLanes
from bot.store.tables import InboxUpdate, utcnow
from bot.updates.handling import handling_update
from bot.updates.locks import ChatLocks
from bot.updates.senders import ChatSenders, Ready

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
REPLAY_AT_ONCE = 1000  # unfinished updates read from the inbox at once after a restart
# Updates whose deferred sends (reactions) are still under way, at most, in all and per chat:
# past either bound an update sends in line, as without deferring (memory and open requests stay
# bounded, and a chat whose reactions Telegram holds back — a 429, timeouts — waits for its own
# reactions only, never takes the others' room).
DEFERRED_AT_ONCE = 256
DEFERRED_PER_CHAT = 16
KEEP_PROCESSED = timedelta(days=7)


async def _send_all(sends: list[Callable[[], Awaitable[None]]]) -> None:
    """Deferred sends, in order; one that fails does not stop the others (a send reports its
    own refusals; anything else is logged)."""
    for send in sends:
        try:
            await send()
        except Exception:
            log.exception("a deferred send failed")


class Outcome(enum.Enum):
    DONE = "done"  # processed now, or found processed already
    RETRY = "retry"  # a handler failed; not processed, try again
    GAVE_UP = "gave_up"  # failed too often; set aside (a dead letter)


@dataclass(frozen=True)
class Poison:
    """An update that cannot be parsed: its id, its JSON as it came, the error's class."""

    update_id: int
    payload: str
    error: str


def _room_to_post(application: Application) -> Ready | None:
    """The pacing layer's wait for room to post in a chat (None without one: send at once)."""
    limiter = getattr(application.bot, "rate_limiter", None)
    if not isinstance(limiter, PostingRateLimiter):
        return None

    async def ready(chat_id: int | None) -> None:
        if chat_id is not None:
            await limiter.room_to_post(chat_id)

    return ready


def parse_each(payloads: Sequence[str], bot: Any) -> tuple[list[Update], list[str], list[Poison]]:
    """Parse updates one by one: those that parse (with their JSON), and those that do not."""
    updates: list[Update] = []
    kept: list[str] = []
    poison: list[Poison] = []
    for payload in payloads:
        try:
            data = json.loads(payload)
        except ValueError as exc:
            log.error("an update that is not JSON was dropped: %s", type(exc).__name__)
            continue
        try:
            update = Update.de_json(data, bot)
            if update is None:
                raise ValueError("empty update")
        except Exception as exc:  # whatever the library raises on a shape it does not know
            if isinstance(data, dict) and isinstance(data.get("update_id"), int):
                poison.append(Poison(data["update_id"], payload, type(exc).__name__))
            else:
                log.error("an update without an id was dropped: %s", type(exc).__name__)
            continue
        updates.append(update)
        kept.append(payload)
    return updates, kept, poison


def raw_identity(payload: str) -> tuple[int | None, int | None]:
    """The chat and the person a stored update names (None where it names none)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None, None
    chat_id = person_id = None
    if isinstance(data, dict):
        for value in data.values():
            if not isinstance(value, dict):
                continue
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                chat_id = chat["id"]
            sender = value.get("from") or value.get("user")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                person_id = sender["id"]
            break
    return chat_id, person_id


def chat_key(update: Update) -> int | None:
    """The chat an update belongs to (its order is kept per chat), or None."""
    chat = update.effective_chat
    return None if chat is None else chat.id


def update_kind(update: Update) -> str:
    """What the update carries: "message", "edited_message", "callback_query", …"""
    for kind in Update.ALL_TYPES:
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


@dataclass(frozen=True)
class Received:
    """An update as the pipeline works on it."""

    update: Update
    chat_id: int | None
    resumed: bool = False  # claimed with its effects before, never finished (the process died)
    failures_before: int = 0  # failed attempts counted in the inbox before this one was read

    @property
    def update_id(self) -> int:
        return self.update.update_id


class Finisher:
    """Marks updates finished with a group commit: while one batch is written, the updates that
    finish meanwhile wait and go into the next one. Idle, an update is written at once; under
    load, one statement and one commit serve many updates. `finish` returns once committed."""

    def __init__(self, engine: Engine, lanes: DatabaseLanes) -> None:
        self.engine = engine
        self.lanes = lanes
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def finish(self, update_id: int) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((update_id, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        await done

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self.lanes.run(
                    None, functools.partial(self._write, [update_id for update_id, _ in batch])
                )
            except Exception as exc:  # the caller sees the database's failure
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _write(self, update_ids: list[int]) -> None:
        with session_scope(self.engine) as session:
            inbox_store.finish_updates(
                session, update_ids=update_ids, outcome=inbox_store.UPDATE_DONE
            )
            session.commit()


class Pipeline:
    """Stores updates in the inbox and runs them through the application exactly once."""

    def __init__(
        self,
        application: Application,
        engine: Engine,
        *,
        lanes: DatabaseLanes | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        lock_slots: int = 16,
    ) -> None:
        """`lanes`: where the database work runs — the handlers' (bot/store/lanes.py), so that
        on SQLite the process's writes queue in one place."""
        self.application = application
        self.engine = engine
        self.lanes = lanes if lanes is not None else DatabaseLanes.for_engine(engine)
        self.max_attempts = max_attempts
        self.locks = ChatLocks(engine, slots=lock_slots)
        self.finisher = Finisher(engine, self.lanes)
        self._failed: Counter[int] = Counter()  # failed attempts of updates in work here
        # stored posts sent in the background, in order per chat; each waits in its queue
        # until the chat may post (where a newer answer to a read-only command replaces it)
        self.senders = ChatSenders(ready=_room_to_post(application))
        self._tails: set[asyncio.Task[None]] = set()
        self._tails_per_chat: Counter[int | None] = Counter()

    # ---- the inbox ------------------------------------------------------------------------

    async def receive(
        self, updates: Sequence[Update], *, payloads: Sequence[str] | None = None
    ) -> list[Received]:
        """Store updates durably (one transaction); those not stored before, in order.

        `payloads`: the updates' JSON as it came (the webhook has it; saves re-encoding).
        """
        texts = payloads if payloads is not None else [json.dumps(u.to_dict()) for u in updates]
        rows = [(u.update_id, chat_key(u), text) for u, text in zip(updates, texts, strict=True)]

        def store() -> set[int]:
            with session_scope(self.engine) as session:
                fresh = inbox_store.receive_updates(session, updates=rows)
                session.commit()
                return fresh

        fresh = await self.lanes.run(None, store)
        return [Received(u, chat_key(u)) for u in updates if u.update_id in fresh]

    async def unprocessed(
        self,
        *,
        chat_id: int | None = None,
        all_chats: bool = False,
        up_to: int | None = None,
        known: Update | None = None,
        limit: int = REPLAY_AT_ONCE,
    ) -> list[Received]:
        """Unfinished updates in the inbox, oldest first: one chat's, or every chat's.

        `known`: an update already parsed (not parsed again from its stored JSON).
        """

        def read() -> list[InboxUpdate]:
            with session_scope(self.engine) as session:
                if all_chats:
                    return inbox_store.all_unfinished_updates(session, limit=limit)
                return inbox_store.unfinished_updates(session, chat_id=chat_id, up_to=up_to)

        received: list[Received] = []
        poison: list[Poison] = []
        for row in await self.lanes.run(None, read):
            try:
                received.append(self.decode(row, known))
            except Exception as exc:  # stored before, no longer parsed (a library upgrade)
                poison.append(Poison(row.update_id, row.payload, type(exc).__name__))
        if poison:
            await self.set_aside(poison)
        return received

    def decode(self, row: InboxUpdate, known: Update | None = None) -> Received:
        if known is not None and known.update_id == row.update_id:
            update = known
        else:
            update = Update.de_json(json.loads(row.payload), self.application.bot)
        return Received(
            update,
            row.chat_id,
            resumed=row.outcome == inbox_store.UPDATE_HANDLED,
            failures_before=row.attempts,
        )

    async def purge(self) -> int:
        """Forget processed updates older than a week."""

        def delete() -> int:
            with session_scope(self.engine) as session:
                before = utcnow() - KEEP_PROCESSED
                removed = inbox_store.purge_processed_updates(session, before=before)
                deadletters.purge_dead_letters(session, before=before)  # kept a week too
                outbox_rows.purge_sent(session, before=utcnow() - timedelta(days=1))
                session.commit()
                return removed

        return await self.lanes.run(None, delete)

    async def set_aside(self, poison: Sequence[Poison]) -> int:
        """Keep updates that cannot be parsed as dead letters, finished in the inbox (one
        transaction), and tell each person once that something went wrong; how many were new.
        Never the person's text in the log: the update id, the chat and the error's class."""

        def store() -> list[Poison]:
            fresh: list[Poison] = []
            with session_scope(self.engine) as session:
                for item in poison:
                    chat_id, person_id = raw_identity(item.payload)
                    if deadletters.set_aside(
                        session,
                        update_id=item.update_id,
                        chat_id=chat_id,
                        person_id=person_id,
                        error=item.error,
                        payload=item.payload,
                    ):
                        fresh.append(item)
                session.commit()
            return fresh

        fresh = await self.lanes.run(None, store)
        for item in fresh:
            chat_id, _ = raw_identity(item.payload)
            log.error(
                "update %s (chat %s) set aside: it cannot be parsed (%s)",
                item.update_id,
                chat_id,
                item.error,
            )
            metrics.update_set_aside("unparsable")
            # told from the chat's sender: the fetch loop does not wait for Telegram
            tell = functools.partial(self._tell, item.payload)
            if not self.senders.put(chat_id, tell):
                await tell()
        return len(fresh)

    async def _tell(self, payload: str) -> None:
        """Tell the person that something went wrong (never raises)."""
        notice = getattr(self.application.bot_data, "set_aside_notice", None)
        if notice is None:
            return
        try:
            await notice(json.loads(payload))
        except Exception as exc:
            log.warning("could not tell of an update set aside: %s", type(exc).__name__)

    # ---- processing -----------------------------------------------------------------------

    async def process(self, received: Received, *, defer_reactions: bool = False) -> Outcome:
        """Run one update through the handlers and settle it in the inbox.

        The caller holds the chat's lock (its order is the caller's business). With
        `defer_reactions`, a reaction the update sends (the acknowledgement of an entry) goes
        out after this returns, so the chat's next update need not wait for Telegram's answer
        to it; the update is finished only once its reactions were sent (a crash before that
        replays it, and a replayed update repeats only its reaction).
        """
        started = time.monotonic()
        untold = received.failures_before == 0 and not self._failed[received.update_id]
        with handling_update(
            received.update_id,
            resumed=received.resumed,
            defer_reactions=defer_reactions,
            tell_failure=untold,
            senders=self.senders if defer_reactions else None,
        ) as handled:
            await self.application.process_update(received.update)
            in_handling = contextvars.copy_context()  # for the deferred sends' log lines
        deferred, handled.deferred = handled.deferred or [], None  # from here on, sends go in line
        if handled.failure is None and deferred and self._room_to_defer(received.chat_id):
            tail = asyncio.create_task(
                self._send_then_finish(received, deferred, started), context=in_handling
            )
            self._tails.add(tail)
            self._tails_per_chat[received.chat_id] += 1
            tail.add_done_callback(functools.partial(self._tail_done, received.chat_id))
            return Outcome.DONE
        await _send_all(deferred)
        if handled.failure is None:  # the usual case: finished together with others (group commit)
            await self.finisher.finish(received.update_id)
            outcome = Outcome.DONE
        else:
            settle = functools.partial(self._settle, received, handled.failure)
            outcome = await self.lanes.run(None, settle)
            if outcome is Outcome.RETRY:
                self._failed[received.update_id] += 1
            else:
                self._failed.pop(received.update_id, None)
            if outcome is Outcome.GAVE_UP:
                metrics.update_set_aside("failed")
        self._observe(received, started, outcome)
        return outcome

    def _room_to_defer(self, chat_id: int | None) -> bool:
        return (
            len(self._tails) < DEFERRED_AT_ONCE
            and self._tails_per_chat[chat_id] < DEFERRED_PER_CHAT
        )

    async def _send_then_finish(
        self, received: Received, deferred: list[Callable[[], Awaitable[None]]], started: float
    ) -> None:
        await _send_all(deferred)
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            # cut off at a stop (a request cancelled may end as a network error, which a send
            # reports and swallows): not finished, so it is replayed and reacts then
            raise asyncio.CancelledError
        try:
            await self.finisher.finish(received.update_id)
        except Exception as exc:  # stays unfinished: replayed on the next start, only reacting
            log.error("update %s could not be finished: %s", received.update_id, repr(exc)[:300])
        self._observe(received, started, Outcome.DONE)

    def _tail_done(self, chat_id: int | None, tail: asyncio.Task[None]) -> None:
        self._tails.discard(tail)
        self._tails_per_chat[chat_id] -= 1
        if not self._tails_per_chat[chat_id]:
            del self._tails_per_chat[chat_id]

    async def join_deferred(self) -> None:
        """Return once every deferred send under way now is through (its update finished)."""
        while self._tails:
            await asyncio.gather(*self._tails, return_exceptions=True)
        await self.senders.join()

    async def settle_deferred(self, grace: float) -> None:
        """Let deferred sends finish for `grace` seconds (at a stop), then cancel them: their
        updates stay unfinished and are replayed on the next start; posts waiting in the chats'
        senders stay in the outbox and go out on the next start."""
        await asyncio.gather(self._settle_tails(grace), self.senders.settle(grace))

    async def _settle_tails(self, grace: float) -> None:
        tails = list(self._tails)
        if not tails:
            return
        _, late = await asyncio.wait(tails, timeout=grace)
        for tail in late:
            tail.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    @staticmethod
    def _observe(received: Received, started: float, outcome: Outcome) -> None:
        metrics.observe_update(
            update_kind(received.update),
            time.monotonic() - started,
            failed=outcome is not Outcome.DONE,
        )

    def _settle(self, received: Received, failure: BaseException | None) -> Outcome:
        update_id = received.update_id
        with session_scope(self.engine) as session:
            if failure is None:  # finished ("handled" stays if a handler claimed it)
                inbox_store.finish_update(
                    session, update_id=update_id, outcome=inbox_store.UPDATE_DONE
                )
                session.commit()
                return Outcome.DONE
            row = inbox_store.inbox_update(session, update_id=update_id)
            if row is None or row.processed_at is not None:
                return Outcome.DONE
            if row.outcome == inbox_store.UPDATE_HANDLED:  # its effects are in; it failed talking
                inbox_store.finish_update(
                    session, update_id=update_id, outcome=inbox_store.UPDATE_DONE
                )
                session.commit()
                return Outcome.DONE
            attempts = inbox_store.count_failed_attempt(session, update_id=update_id)
            if attempts < self.max_attempts:
                session.commit()
                log.warning(
                    "update %s (chat %s) failed (attempt %s of %s): %s",
                    update_id,
                    received.chat_id,
                    attempts,
                    self.max_attempts,
                    type(failure).__name__,
                )
                return Outcome.RETRY
            _, person_id = raw_identity(row.payload)
            deadletters.set_aside(
                session,
                update_id=update_id,
                chat_id=received.chat_id,
                person_id=person_id,
                error=type(failure).__name__,
                payload=row.payload,
            )
            session.commit()
        log.error(
            "update %s (chat %s) set aside after %s failed attempts: %s",
            update_id,
            received.chat_id,
            attempts,
            type(failure).__name__,
        )
        return Outcome.GAVE_UP

    async def settle_chat(
        self, chat_id: int | None, update_id: int, *, known: Update | None = None
    ) -> bool:
        """Process a chat's waiting updates, oldest first, up to `update_id` (webhook mode).

        Under the chat's lock (across processes on PostgreSQL), so an update delivered again
        to another process waits for the first and then finds it processed. True when
        `update_id` is processed (or given up); False when it failed and should come again.
        """
        async with self.locks.hold(chat_id):
            while True:
                pending = await self.unprocessed(chat_id=chat_id, up_to=update_id, known=known)
                if chat_id is None:  # no order to keep: only this one
                    pending = [r for r in pending if r.update_id == update_id]
                if not pending:
                    return True  # finished before, here or by another process
                for received in pending:
                    if await self.process(received) is Outcome.RETRY:
                        return False  # this one or one before it must come again
                if pending[-1].update_id == update_id:
                    return True

    async def replay_all(self) -> int:
        """Process what the inbox holds unprocessed, each chat in order (webhook mode, at start)."""
        pending = await self.unprocessed(all_chats=True)
        newest: dict[int, int] = {}
        chatless: list[int] = []
        for received in pending:
            if received.chat_id is None:
                chatless.append(received.update_id)
            else:
                newest[received.chat_id] = received.update_id
        if pending:
            log.info("replaying %s unprocessed updates from the inbox", len(pending))
        await asyncio.gather(
            *(self.settle_chat(chat_id, update_id) for chat_id, update_id in newest.items()),
            *(self.settle_chat(None, update_id) for update_id in chatless),
            return_exceptions=True,
        )
        return len(pending)

    async def close(self) -> None:
        await self.locks.close()
