"""Long polling that never loses an update and never lets one chat hold up the others.

Each batch from getUpdates is stored in the inbox first; only then is the offset moved on (the
next getUpdates confirms it), so a `kill -9` loses nothing: unprocessed inbox rows are replayed
on the next start, in update_id order. Fetching goes on while chats work — a slow chat delays
only its own updates — and pauses while too many updates wait in total.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.ratelimit import retry_after_seconds
from bot.updates.pipeline import (
    REPLAY_AT_ONCE,
    Outcome,
    Pipeline,
    Poison,
    Received,
    parse_each,
)
from bot.updates.queues import ChatQueues

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_TIMEOUT_SECONDS = 20
BATCH_LIMIT = 100
RETRY_PAUSES_SECONDS = (0.5, 2.0, 5.0)
FETCH_BACKOFF_MOST_SECONDS = 30.0
STALE_AFTER_SECONDS = 3 * (POLL_TIMEOUT_SECONDS + 10) + FETCH_BACKOFF_MOST_SECONDS
SHUTDOWN_GRACE_SECONDS = 10.0
# Updates in work at once (each chat's one at a time). An update in work mostly waits — for
# its database hop and for Telegram's answer to its reaction — so this bounds throughput: at
# 32, with Telegram answering in 50 ms, a burst of replies stalled near 350/s with CPU to spare.
IN_WORK = 128


@dataclass(frozen=True)
class Fetched:
    """A batch of getUpdates: the updates with their JSON as Telegram sent it, those that could
    not be parsed, and the newest id of all (None: nothing came)."""

    updates: Sequence[Update] = ()
    payloads: Sequence[str] = ()
    poison: Sequence[Poison] = ()
    newest: int | None = None


class _NoUpdateDump(logging.Filter):
    """python-telegram-bot logs a batch it cannot parse whole, people's texts and all, with a
    traceback; the poller sets that update aside and logs its id and error class instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error while parsing updates")


for _name in ("telegram.ext.ExtBot", "telegram.Bot"):
    logging.getLogger(_name).addFilter(_NoUpdateDump())


class Poller:
    """getUpdates → inbox → per-chat queues → the application."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        allowed_updates: Sequence[str],
        poll_timeout: int = POLL_TIMEOUT_SECONDS,
        concurrency: int = IN_WORK,
        capacity: int = 1000,
        replay_at_once: int = REPLAY_AT_ONCE,
    ) -> None:
        self.pipeline = pipeline
        self.allowed_updates = list(allowed_updates)
        self.poll_timeout = poll_timeout
        self.replay_at_once = replay_at_once
        self.queues = ChatQueues(self._work, concurrency=concurrency, capacity=capacity)
        self._offset: int | None = None
        self._fetched_at = time.monotonic()  # the last getUpdates that Telegram answered

    async def _work(self, received: Received) -> None:
        """One update, tried again after a pause while it fails (the pipeline bounds the tries)."""
        for pause in (*RETRY_PAUSES_SECONDS, None):
            outcome = await self.pipeline.process(received, defer_reactions=True)
            if outcome is not Outcome.RETRY or pause is None:
                return
            await asyncio.sleep(pause)

    def fetching(self) -> bool:
        """Whether Telegram answered a getUpdates lately (a long poll waits POLL_TIMEOUT; a
        refusal such as 409 Conflict, another process polling, keeps failing)."""
        return time.monotonic() - self._fetched_at < STALE_AFTER_SECONDS

    async def replay(self) -> int:
        """Queue what the inbox holds unprocessed (from before a crash or a stop), oldest first,
        at most `replay_at_once`."""
        pending = await self.pipeline.unprocessed(all_chats=True, limit=self.replay_at_once)
        for received in pending:
            self.queues.put(received)
        if pending:
            log.info("replaying %s unprocessed updates from the inbox", len(pending))
        return len(pending)

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch until `stop` is set; then let the work in hand finish (bounded)."""
        bot = self.pipeline.application.bot
        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
        backoff = 1.0
        ahead: asyncio.Task[Fetched] | None = None  # the next getUpdates, already asked
        try:
            # a very long backlog, in parts: each worked off (its reactions too, else the next
            # part would read their updates again) before the next is read
            while await self.replay() >= self.replay_at_once and not stop.is_set():
                await self.queues.join()
                await self.pipeline.join_deferred()
            while not stop.is_set():
                if ahead is None:
                    if await until_stopped(self.queues.wait_for_room(), stop) is None:
                        break
                    ahead = asyncio.ensure_future(self._fetch())
                fetching, ahead = ahead, None
                try:
                    fetched = await until_stopped(fetching, stop)
                except InvalidToken:
                    raise
                except RetryAfter as exc:
                    await _sleep(retry_after_seconds(exc), stop)
                    continue
                except (NetworkError, Conflict, TelegramError) as exc:
                    log.warning("getUpdates failed, trying again in %.0f s: %s", backoff, exc)
                    await _sleep(backoff, stop)
                    backoff = min(backoff * 2, FETCH_BACKOFF_MOST_SECONDS)
                    continue
                if fetched is None:
                    break
                self._fetched_at = time.monotonic()
                backoff = 1.0
                if fetched.newest is None:
                    continue
                try:
                    fresh = await self.pipeline.receive(fetched.updates, payloads=fetched.payloads)
                    if fetched.poison:  # kept and finished, so its chat goes on
                        await self.pipeline.set_aside(fetched.poison)
                except Exception as exc:  # the database is away: keep the offset, fetch later
                    log.error("could not store updates in the inbox: %s", type(exc).__name__)
                    await _sleep(backoff, stop)
                    backoff = min(backoff * 2, FETCH_BACKOFF_MOST_SECONDS)
                    continue
                self._offset = fetched.newest + 1  # confirmed by the next getUpdates
                # Ask for the next batch before this one's work starts: its request then goes
                # out at once instead of behind a hundred updates' work, and Telegram's
                # round trip overlaps with the work (in a burst, fetching was what the
                # chats waited for).
                if self.queues.waiting + len(fresh) < self.queues.capacity:
                    ahead = asyncio.ensure_future(self._fetch())
                for received in fresh:
                    self.queues.put(received)
        finally:
            try:
                if ahead is not None:
                    await _cancel(ahead)
            finally:
                await self._wind_down()

    async def _wind_down(self) -> None:
        """Let the work in hand and the reactions under way finish, within one grace period
        (bounded for whatever stops the process); then confirm what was stored."""
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        await self.queues.close(SHUTDOWN_GRACE_SECONDS)
        await self.pipeline.settle_deferred(max(0.0, deadline - time.monotonic()))
        await self._confirm()

    async def _fetch(self) -> Fetched:
        """A batch of updates with their JSON as Telegram sent it (kept for the inbox: encoding
        the parsed objects again would cost more than the rest of an update's work).

        When the library cannot parse the batch (one update of a shape it does not know), the
        updates are parsed one by one from their JSON: the others go on, that one is set aside.
        """
        application = self.pipeline.application
        request = application.bot_data.updates_request
        try:
            updates = await application.bot.get_updates(
                offset=self._offset,
                limit=BATCH_LIMIT,
                timeout=self.poll_timeout,
                allowed_updates=self.allowed_updates,
                read_timeout=self.poll_timeout + 10,
            )
        except TelegramError:
            raise
        except Exception as exc:
            kept = request.take_payloads() if request is not None else {}
            if not kept:
                raise
            log.warning(
                "a batch of updates could not be parsed (%s): one by one", type(exc).__name__
            )
            ordered = [kept[update_id] for update_id in sorted(kept)]
            parsed, payloads, poison = parse_each(ordered, application.bot)
            return Fetched(tuple(parsed), payloads, poison, newest=max(kept))
        if not updates:
            return Fetched()
        kept = request.take_payloads() if request is not None else {}
        payloads = [
            kept.get(u.update_id) or json.dumps(u.to_dict(), ensure_ascii=False) for u in updates
        ]
        return Fetched(updates, payloads, newest=updates[-1].update_id)

    async def _confirm(self) -> None:
        """Tell Telegram the stored updates arrived (they are in the inbox)."""
        if self._offset is None:
            return
        with contextlib.suppress(TelegramError):
            await self.pipeline.application.bot.get_updates(
                offset=self._offset, limit=1, timeout=0, allowed_updates=self.allowed_updates
            )


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The result of `work`, or None when `stop` is set first (`work` is cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        await _cancel(task)
        raise
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    await _cancel(task)
    return None


async def _cancel(task: asyncio.Future[Any]) -> None:
    task.cancel()
    # a request cut off by its cancellation may end as a network error instead
    with contextlib.suppress(asyncio.CancelledError, TelegramError):
        await task


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
