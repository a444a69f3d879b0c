"""The one place that paces and retries every request the bot makes to Telegram.

Telegram allows about 30 messages a second per bot and 20 messages a minute per group; a 429
("retry after n seconds") is an answer for one chat. So posts and edits are paced per chat and
overall, each chat's posts and edits go one at a time in lanes of their own (a 429 pauses that
chat only: its edits, and after a post its posts too), and network faults, timeouts and 5xx are
retried here with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot import metrics

log = logging.getLogger(__name__)

Answer = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Answer]]

# Sent times are taken when the request leaves; it reaches Telegram a little later, so every
# window is kept slightly longer than Telegram's.
SAFETY = 1.05
GROUP_BURST = 20  # Telegram's per-group allowance: more per minute raises the rate, not the burst
PRIVATE_BURST = 5
PRIVATE_MESSAGES_PER_SECOND = 1.0
EDIT_SHARE = 0.5  # edits may fill the overall window only this far; posts may fill all of it
FLOOD_RETRIES = 5
NETWORK_RETRIES = 5
NETWORK_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
ROOM_POLL_SECONDS = 0.02  # how often `room_to_post` looks again while a post is under way
_FORGET_AFTER = 512  # chats remembered before idle ones are dropped


class Lane(Enum):
    """What a request does to a chat, which decides the budget it draws from."""

    POST = "post"  # a new message: the chat's and the bot's message budgets
    EDIT = "edit"  # a changed message: budgets of its own, behind posts overall
    OTHER = "other"  # reactions, look-ups, callback answers: not paced


_COUNTED_BY = {"sendmediagroup": "media", "copymessages": "message_ids"}
_COUNTED_BY["forwardmessages"] = "message_ids"


def lane_of(endpoint: str) -> Lane:
    """The lane of a Bot API method."""
    name = endpoint.lower()
    if name.startswith("edit"):
        return Lane.EDIT
    if name.startswith(("send", "copy", "forward")) and name != "sendchataction":
        return Lane.POST
    return Lane.OTHER


def weight_of(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages one request posts (an album or a batch copy is several)."""
    key = _COUNTED_BY.get(endpoint.lower())
    items = data.get(key) if key else None
    return max(1, len(items)) if isinstance(items, list | tuple) else 1


def chat_of(data: dict[str, Any]) -> int | str | None:
    """The chat a request is for (an int id, an @username, or None)."""
    chat = data.get("chat_id")
    if isinstance(chat, str):
        with contextlib.suppress(ValueError):
            return int(chat)
    return chat if isinstance(chat, int | str) else None


def is_group(chat: int | str | None) -> bool:
    """Groups, supergroups and channels have negative ids; @usernames name only those."""
    return isinstance(chat, str) or (isinstance(chat, int) and chat < 0)


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's retry_after in seconds, whichever type this library version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SlidingWindow:
    """At most `limit` messages in any `period` seconds, by the times they were sent."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._sent: deque[float] = deque()

    @classmethod
    def for_rate(cls, per_period: float, period: float, burst: int | None = None) -> SlidingWindow:
        """A window letting `per_period` messages through per `period`, at most `burst` at once."""
        limit = max(1, int(per_period))
        if burst is not None:
            limit = max(1, min(limit, burst))
        return cls(limit, period * limit / per_period * SAFETY)

    def wait_time(self, now: float, weight: int = 1, limit: int | None = None) -> float:
        """Seconds until `weight` more messages fit (within `limit` if lower than the window's)."""
        cap = min(self.limit, limit) if limit is not None else self.limit
        weight = min(weight, cap)
        while self._sent and self._sent[0] <= now - self.period:
            self._sent.popleft()
        excess = len(self._sent) + weight - cap
        if excess <= 0:
            return 0.0
        return max(self._sent[excess - 1] + self.period - now, 1e-3)

    def record(self, now: float, weight: int = 1) -> None:
        self._sent.extend([now] * min(weight, self.limit))

    def idle(self, now: float) -> bool:
        return not self._sent or self._sent[-1] <= now - self.period

    def count(self, now: float) -> int:
        """Messages sent in the window ending now."""
        return sum(1 for sent in self._sent if sent > now - self.period)


@dataclass
class _ChatLane:
    """One chat's posts (or edits): one request at a time, in order, in the chat's window."""

    window: SlidingWindow
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    paused_until: float = 0.0
    users: int = 0  # requests holding or waiting for the lock; a lane in use is never forgotten


class PostingRateLimiter(BaseRateLimiter[int]):
    """Paces posts under Telegram's flood limits and retries 429s and faults, per chat.

    Budgets, all sliding windows over sent times:
    - overall: `messages_per_second` posts and edits per second across all chats; edits only
      use the window up to EDIT_SHARE of it, so posts always find that much of it free;
    - per group: `group_messages_per_minute` posts a minute, at most GROUP_BURST at once;
      edits have a window of the same size of their own;
    - per private chat: about one post a second after a burst of PRIVATE_BURST (edits alike).
    Reactions, getChatAdministrators, answerCallbackQuery and other non-posting calls draw on no
    budget. A chat's posts go out one at a time in its lane; a 429 pauses that lane (a post's
    429 pauses the chat's edits too) for retry_after and the request is sent again — other
    chats and lanes go on. Network faults, timeouts and 5xx are retried NETWORK_RETRIES times
    with backoff; other refusals are raised at once. `rate_limit_args`, when given, is the
    number of 429 retries for that call.
    """

    def __init__(
        self,
        *,
        messages_per_second: float = 30,
        group_messages_per_minute: float = 20,
        private_messages_per_second: float = PRIVATE_MESSAGES_PER_SECOND,
        flood_retries: int = FLOOD_RETRIES,
        network_retries: int = NETWORK_RETRIES,
        backoff_seconds: float = NETWORK_BACKOFF_SECONDS,
    ) -> None:
        self._group_rate = group_messages_per_minute
        self._private_rate = private_messages_per_second
        self._flood_retries = flood_retries
        self._network_retries = network_retries
        self._backoff = backoff_seconds
        self._overall = SlidingWindow.for_rate(messages_per_second, 1.0)
        self._edit_cap = max(1, int(self._overall.limit * EDIT_SHARE))
        self._overall_locks = {Lane.POST: asyncio.Lock(), Lane.EDIT: asyncio.Lock()}
        self._lanes: dict[tuple[int | str | None, Lane], _ChatLane] = {}
        self._other_paused: dict[int | str | None, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up: the windows fill as requests are made."""

    async def shutdown(self) -> None:
        """Nothing to release: waiting requests end with the tasks that made them."""

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        """Send one request when its budgets allow, retrying 429s and faults for its chat."""
        lane = lane_of(endpoint)
        chat = chat_of(data)
        flood_retries = self._flood_retries if rate_limit_args is None else rate_limit_args

        async def call() -> Answer:
            return await callback(*args, **kwargs)

        if lane is Lane.OTHER:
            return await self._attempts(
                endpoint, chat, call, flood_retries, lambda: self._other_ready(chat), lane
            )
        chat_lane = self._lane(chat, lane)
        weight = weight_of(endpoint, data)
        chat_lane.users += 1
        try:
            async with chat_lane.lock:
                return await self._attempts(
                    endpoint,
                    chat,
                    call,
                    flood_retries,
                    lambda: self._paced(chat_lane, lane, weight),
                    lane,
                )
        finally:
            chat_lane.users -= 1

    async def _attempts(
        self,
        endpoint: str,
        chat: int | str | None,
        call: Callable[[], Awaitable[Answer]],
        flood_retries: int,
        ready: Callable[[], Awaitable[None]],
        lane: Lane,
    ) -> Answer:
        floods = faults = 0
        backoff = self._backoff
        while True:
            await ready()
            try:
                return await call()
            except TelegramError as exc:
                metrics.telegram_error(_code_of(exc))
                retryable = isinstance(exc, RetryAfter | NetworkError)
                if not retryable or isinstance(exc, BadRequest):
                    raise
                if _being_cancelled():  # a cancelled request may come back as a network error
                    raise asyncio.CancelledError from exc
                error: TelegramError = exc
            if isinstance(error, RetryAfter):
                if floods >= flood_retries:
                    log.warning(
                        "%s for %s: still flood-limited after %d retries", endpoint, chat, floods
                    )
                    raise error
                floods += 1
                seconds = retry_after_seconds(error)
                log.info("%s for %s: flood limit, chat paused %.0fs", endpoint, chat, seconds)
                self._pause(chat, lane, seconds)
                continue
            # timeouts, dropped connections, Telegram's 5xx
            if faults >= self._network_retries:
                raise error
            faults += 1
            log.warning(
                "%s: Telegram unreachable (%s); retrying in %.1fs",
                endpoint,
                type(error).__name__,
                backoff,
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _pause(self, chat: int | str | None, lane: Lane, seconds: float) -> None:
        """Hold the chat's requests of this lane (a post's 429: its edits too) for `seconds`."""
        until = _now() + seconds
        if lane is Lane.OTHER:
            self._other_paused[chat] = max(self._other_paused.get(chat, 0.0), until)
            return
        for paused in (lane, Lane.EDIT):
            chat_lane = self._lane(chat, paused)
            chat_lane.paused_until = max(chat_lane.paused_until, until)

    async def _other_ready(self, chat: int | str | None) -> None:
        await _wait(lambda: self._other_paused.get(chat, 0.0) - _now())

    async def _paced(self, chat_lane: _ChatLane, lane: Lane, weight: int) -> None:
        """Wait out a pause, then for room in the chat's window, then in the overall window."""
        await _wait(lambda: chat_lane.paused_until - _now())
        await _wait(lambda: chat_lane.window.wait_time(_now(), weight))
        cap = self._edit_cap if lane is Lane.EDIT else None
        async with self._overall_locks[lane]:
            await _wait(lambda: self._overall.wait_time(_now(), weight, cap))
            now = _now()
            self._overall.record(now, weight)
            chat_lane.window.record(now, weight)

    def post_waits(self, chat: int) -> bool:
        """Whether a post to the chat would wait now: its window is full, it is paused, or
        another of its posts is under way or waiting."""
        chat_lane = self._lanes.get((chat, Lane.POST))
        if chat_lane is None:
            return False
        now = _now()
        return (
            chat_lane.users > 0
            or chat_lane.paused_until > now
            or chat_lane.window.wait_time(now, 1) > 0
        )

    async def room_to_post(self, chat: int) -> None:
        """Return once a post to the chat would not wait (`post_waits` says no): a send kept
        back until then can still be replaced by a newer one (bot/updates/senders.py)."""
        while self.post_waits(chat):
            chat_lane = self._lanes[(chat, Lane.POST)]
            now = _now()
            # the window's or the pause's end; while a post is under way, a moment
            left = max(chat_lane.paused_until - now, chat_lane.window.wait_time(now, 1))
            await asyncio.sleep(max(left, ROOM_POLL_SECONDS))

    def _lane(self, chat: int | str | None, lane: Lane) -> _ChatLane:
        key = (chat, lane)
        found = self._lanes.get(key)
        if found is None:
            if len(self._lanes) >= _FORGET_AFTER:
                self._forget_idle()
            if is_group(chat):
                window = SlidingWindow.for_rate(self._group_rate, 60.0, GROUP_BURST)
            else:
                window = SlidingWindow.for_rate(
                    self._private_rate * PRIVATE_BURST, PRIVATE_BURST, PRIVATE_BURST
                )
            found = self._lanes[key] = _ChatLane(window)
        return found

    def _forget_idle(self) -> None:
        now = _now()
        for key, chat_lane in list(self._lanes.items()):
            if (
                chat_lane.users == 0
                and chat_lane.paused_until <= now
                and chat_lane.window.idle(now)
            ):
                del self._lanes[key]
        for chat, until in list(self._other_paused.items()):
            if until <= now:
                del self._other_paused[chat]


async def _wait(delay: Callable[[], float]) -> None:
    """Sleep until `delay()` is no longer positive."""
    # Each answer is the exact time left (a deadline), so this sleeps once per change of the
    # budget (a pause lengthened, another lane's send), not in a polling loop.
    while (seconds := delay()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(seconds)


def _being_cancelled() -> bool:
    """Whether the running task is being cancelled (e.g. a stop cut its request off)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _now() -> float:
    """The event loop's clock (what asyncio.sleep counts in; tests may run it virtually)."""
    return asyncio.get_running_loop().time()


def _code_of(error: TelegramError) -> str:
    """The kind of refusal, for the error counter: the HTTP-like code where there is one."""
    for kind, code in (
        (RetryAfter, "429"),
        (ChatMigrated, "400"),
        (BadRequest, "400"),
        (Forbidden, "403"),
        (InvalidToken, "401"),
        (TimedOut, "timeout"),
        (NetworkError, "network"),
    ):
        if isinstance(error, kind):
            return code
    return "other"
