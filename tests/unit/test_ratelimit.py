"""The rate limiter on its own: a recording callback and a virtual clock, never a real wait."""

from __future__ import annotations

import asyncio
import selectors
import warnings
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.ratelimit import GROUP_BURST, Lane, PostingRateLimiter, lane_of, weight_of

GROUP_A = -1001
GROUP_B = -1002
PERSON = 4242
T = TypeVar("T")


class _VirtualClockSelector(selectors.DefaultSelector):
    """Never blocks: when the loop would wait for its next timer, time jumps there instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if not ready:
            if timeout is None:
                raise RuntimeError("nothing left to wait for: the test would hang")
            self.now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is virtual: asyncio.sleep(60) takes no real time."""

    def __init__(self) -> None:
        self._virtual = _VirtualClockSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        return self._virtual.now


def run(main: Coroutine[Any, Any, T]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


@dataclass
class Telegram:
    """A callback that records each request with the virtual time it left at."""

    refusals: dict[tuple[str, int], list[Exception]] = field(default_factory=dict)
    calls: list[tuple[float, str, int, Any]] = field(default_factory=list)
    delivered: list[tuple[float, str, int, Any]] = field(default_factory=list)

    def refuse(self, endpoint: str, chat: int, *errors: Exception) -> None:
        self.refusals.setdefault((endpoint, chat), []).extend(errors)

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> bool:
        now = asyncio.get_running_loop().time()
        record = (now, endpoint, data["chat_id"], data.get("text"))
        self.calls.append(record)
        await asyncio.sleep(0.01)  # the round trip
        waiting = self.refusals.get((endpoint, data["chat_id"]))
        if waiting:
            raise waiting.pop(0)
        self.delivered.append(record)
        return True

    def times(self, endpoint: str, chat: int | None = None) -> list[float]:
        return [t for t, e, c, _ in self.delivered if e == endpoint and chat in (None, c)]


async def request(
    limiter: PostingRateLimiter,
    telegram: Telegram,
    endpoint: str,
    chat: int,
    text: str = "",
    rate_limit_args: int | None = None,
) -> Any:
    data = {"chat_id": chat, "text": text}
    return await limiter.process_request(
        telegram, (endpoint, data), {}, endpoint, data, rate_limit_args
    )


def flood(seconds: int) -> RetryAfter:
    """Telegram's 429 as the library raises it (its constructor warns about a coming change)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(seconds)


def most_in_any_window(times: list[float], period: float) -> int:
    """The most sends that fall in any period-long window (Telegram's way of counting)."""
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered if start <= t < start + period) for start in ordered), default=0
    )


def test_lanes_and_weights() -> None:
    assert lane_of("sendMessage") is Lane.POST
    assert lane_of("sendPhoto") is Lane.POST
    assert lane_of("copyMessage") is Lane.POST
    assert lane_of("editMessageText") is Lane.EDIT
    assert lane_of("editMessageReplyMarkup") is Lane.EDIT
    assert lane_of("setMessageReaction") is Lane.OTHER
    assert lane_of("getChatAdministrators") is Lane.OTHER
    assert lane_of("answerCallbackQuery") is Lane.OTHER
    assert lane_of("sendChatAction") is Lane.OTHER
    assert weight_of("sendMediaGroup", {"media": [1, 2, 3]}) == 3
    assert weight_of("sendMessage", {"text": "x"}) == 1


def test_a_burst_of_25_posts_to_one_group_keeps_20_per_minute() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter()  # the real limits: 30/s overall, 20/min per group
        await asyncio.gather(
            *(request(limiter, telegram, "sendMessage", GROUP_A, f"m{i}") for i in range(25))
        )

    run(main())
    times = telegram.times("sendMessage")
    assert len(times) == 25
    assert [text for _, _, _, text in telegram.delivered] == [f"m{i}" for i in range(25)]
    assert most_in_any_window(times, 60.0) == GROUP_BURST == 20
    assert sum(1 for t in times if t < 60) == 20  # no second burst within the first minute
    assert all(t < 1 for t in times[:20])
    assert 60 < times[20] < 66  # the 21st when the first has left the minute (with a margin)


def test_a_steady_stream_never_exceeds_20_in_any_minute() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter()
        await asyncio.gather(
            *(request(limiter, telegram, "sendMessage", GROUP_A, f"m{i}") for i in range(70))
        )

    run(main())
    times = telegram.times("sendMessage")
    assert len(times) == 70
    assert most_in_any_window(times, 60.0) <= 20
    assert times[-1] < 4 * 63 + 1  # and no slower than that


def test_posts_to_many_groups_stay_under_30_per_second() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter()
        await asyncio.gather(
            *(request(limiter, telegram, "sendMessage", -5000 - i) for i in range(200))
        )

    run(main())
    times = telegram.times("sendMessage")
    assert len(times) == 200
    assert most_in_any_window(times, 1.0) <= 30
    assert times[-1] < 200 / 30 * 1.1 + 1  # paced, not throttled harder than needed


def test_the_tests_group_limit_of_6000_a_minute_hardly_waits() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter(group_messages_per_minute=6000)
        await asyncio.gather(
            *(request(limiter, telegram, "sendMessage", GROUP_A) for _ in range(100))
        )

    run(main())
    assert len(telegram.times("sendMessage")) == 100
    assert telegram.times("sendMessage")[-1] < 4


def test_a_private_chat_gets_a_short_burst_then_about_one_a_second() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter()
        await asyncio.gather(
            *(request(limiter, telegram, "sendMessage", PERSON) for _ in range(10))
        )

    run(main())
    times = telegram.times("sendMessage")
    assert all(t < 1 for t in times[:5])
    assert times[5] > 5
    assert most_in_any_window(times, 5.0) <= 5


def test_a_429_for_one_group_delays_only_that_group() -> None:
    telegram = Telegram()
    telegram.refuse("sendMessage", GROUP_A, flood(5))

    async def later(seconds: float, endpoint: str, chat: int, text: str = "") -> Any:
        await asyncio.sleep(seconds)
        return await request(limiter, telegram, endpoint, chat, text)

    limiter = PostingRateLimiter()

    async def main() -> None:
        await asyncio.gather(
            *(later(0, "sendMessage", GROUP_A, f"a{i}") for i in range(3)),
            *(later(0, "sendMessage", GROUP_B, f"b{i}") for i in range(5)),
            later(1, "sendMessage", GROUP_A, "a3"),  # while A is paused
            later(2, "sendMessage", GROUP_B, "b5"),
            later(2, "setMessageReaction", GROUP_A, "reaction in A"),
            later(2, "setMessageReaction", GROUP_B, "reaction in B"),
            later(2, "getChatAdministrators", GROUP_A, "admins of A"),
        )

    run(main())
    b_times = telegram.times("sendMessage", GROUP_B)
    assert len(b_times) == 6
    assert max(b_times[:5]) < 0.1
    assert b_times[5] == pytest.approx(2.0, abs=0.02)  # B posts during A's pause, undelayed
    assert all(2 <= t < 2.02 for t in telegram.times("setMessageReaction"))
    assert all(2 <= t < 2.02 for t in telegram.times("getChatAdministrators"))
    a_posts = [
        (t, text)
        for t, endpoint, chat, text in telegram.delivered
        if (endpoint, chat) == ("sendMessage", GROUP_A)
    ]
    assert [text for _, text in a_posts] == ["a0", "a1", "a2", "a3"]  # each once, in order
    a_calls = [
        t for t, endpoint, chat, _ in telegram.calls if (endpoint, chat) == ("sendMessage", GROUP_A)
    ]
    assert len(a_calls) == 5  # the refused one, then nothing to A until the pause was over
    assert a_calls[0] < 0.1
    assert all(t >= 5 for t in a_calls[1:])


def test_reactions_and_lookups_use_no_posting_budget() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter()
        await asyncio.gather(
            *(request(limiter, telegram, "setMessageReaction", GROUP_A) for _ in range(100)),
            *(request(limiter, telegram, "getChatAdministrators", GROUP_A) for _ in range(20)),
            *(request(limiter, telegram, "answerCallbackQuery", GROUP_A) for _ in range(20)),
        )
        await asyncio.gather(
            *(request(limiter, telegram, "sendMessage", GROUP_A) for _ in range(20))
        )

    run(main())
    assert max(t for t, endpoint, _, _ in telegram.delivered if endpoint != "sendMessage") < 0.1
    assert max(telegram.times("sendMessage")) < 1  # the group's full burst is still there


def test_edits_have_their_own_budget_behind_posts() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter()
        edits = [request(limiter, telegram, "editMessageText", GROUP_A) for _ in range(25)]
        posts = [request(limiter, telegram, "sendMessage", GROUP_A) for _ in range(15)]
        await asyncio.gather(*edits, *posts)

    run(main())
    # cards and answers are not held up (one at a time in the group: round trips only)
    assert max(telegram.times("sendMessage")) < 0.01 * 15 + 0.05
    edits = telegram.times("editMessageText")
    assert len(edits) == 25
    assert most_in_any_window(edits, 60.0) <= 20


def test_edits_yield_the_overall_window_to_posts() -> None:
    telegram = Telegram()

    async def main() -> None:
        limiter = PostingRateLimiter()
        posts = [request(limiter, telegram, "sendMessage", -6000 - i) for i in range(30)]
        edits = [request(limiter, telegram, "editMessageText", -7000 - i) for i in range(10)]
        await asyncio.gather(*posts, *edits)

    run(main())
    assert max(telegram.times("sendMessage")) < 0.1
    assert min(telegram.times("editMessageText")) > 1  # after the posts' second
    assert (
        most_in_any_window(telegram.times("sendMessage") + telegram.times("editMessageText"), 1.0)
        <= 30
    )


def test_network_faults_are_retried_with_backoff() -> None:
    telegram = Telegram()
    telegram.refuse("sendMessage", GROUP_A, NetworkError("Bad Gateway"), TimedOut())

    async def main() -> Any:
        return await request(PostingRateLimiter(), telegram, "sendMessage", GROUP_A, "x")

    assert run(main()) is True
    calls = [t for t, *_ in telegram.calls]
    assert len(calls) == 3
    assert calls[1] - calls[0] == pytest.approx(0.51, abs=0.02)
    assert calls[2] - calls[1] == pytest.approx(1.01, abs=0.02)
    assert len(telegram.delivered) == 1


def test_retries_are_bounded() -> None:
    telegram = Telegram()
    telegram.refuse("sendMessage", GROUP_A, *(NetworkError("Bad Gateway") for _ in range(10)))
    telegram.refuse("sendMessage", GROUP_B, *(flood(1) for _ in range(10)))

    async def main() -> None:
        limiter = PostingRateLimiter()
        with pytest.raises(NetworkError):
            await request(limiter, telegram, "sendMessage", GROUP_A)
        with pytest.raises(RetryAfter):
            await request(limiter, telegram, "sendMessage", GROUP_B)
        with pytest.raises(RetryAfter):
            await request(limiter, telegram, "sendMessage", GROUP_B, rate_limit_args=0)

    run(main())
    assert sum(1 for _, _, chat, _ in telegram.calls if chat == GROUP_A) == 6
    assert sum(1 for _, _, chat, _ in telegram.calls if chat == GROUP_B) == 7


def test_a_request_cut_off_by_a_stop_is_not_retried() -> None:
    """A cancelled request may come back as a network error (the HTTP client's own): the retry
    layer then ends it at once instead of retrying through the stop's grace period."""
    calls: list[str] = []

    async def telegram(endpoint: str, data: dict[str, Any]) -> bool:
        calls.append(endpoint)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise NetworkError("connection closed") from None
        return True

    async def main() -> None:
        data = {"chat_id": GROUP_A}
        endpoint = "setMessageReaction"
        sending = asyncio.create_task(
            PostingRateLimiter().process_request(
                telegram, (endpoint, data), {}, endpoint, data, None
            )
        )
        await asyncio.sleep(0.05)
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending

    run(main())
    assert calls == ["setMessageReaction"]


def test_refusals_are_not_retried() -> None:
    telegram = Telegram()
    telegram.refuse("sendMessage", GROUP_A, BadRequest("Chat not found"))
    telegram.refuse("sendMessage", GROUP_B, Forbidden("bot was kicked"))

    async def main() -> None:
        limiter = PostingRateLimiter()
        with pytest.raises(BadRequest):
            await request(limiter, telegram, "sendMessage", GROUP_A)
        with pytest.raises(Forbidden):
            await request(limiter, telegram, "sendMessage", GROUP_B)

    run(main())
    assert len(telegram.calls) == 2


def test_idle_chats_are_forgotten() -> None:
    telegram = Telegram()
    limiter = PostingRateLimiter(group_messages_per_minute=6000)

    async def main() -> None:
        for i in range(2000):
            await request(limiter, telegram, "sendMessage", -10_000 - i)
            await asyncio.sleep(0.05)

    run(main())
    assert len(telegram.delivered) == 2000
    assert len(limiter._lanes) <= 520
