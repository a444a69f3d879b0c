"""Telegram's flood limits as the emulator enforces them: per group, per bot, and flooded chats."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bot.playground.emulator.model import ApiError


def _is_post(method: str) -> bool:
    name = method.lower()
    return name.startswith(("send", "copy", "forward")) and name != "sendchataction"


def _is_edit(method: str) -> bool:
    return method.lower().startswith("edit")


@dataclass
class FloodControl:
    """Telegram's flood limits: per group, per bot, and chats told to wait.

    Posts count against 20 a minute per group and 30 a second overall; edits count too, against
    the overall budget and a looser one per group (`group_edit_limit`). Enforcement of the
    limits is off unless a test turns it on (`enforced = True`), and a test may shorten
    `group_window` to see a minute's behaviour in seconds. Flooded chats (from a Fault for one
    chat) are refused either way.
    """

    enforced: bool = False
    group_limit: int = 20
    group_edit_limit: int = 60
    group_window: float = 60.0
    overall_limit: int = 30
    overall_window: float = 1.0
    flooded_until: dict[int, float] = field(default_factory=dict)
    posts: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, chat id)
    edits: list[tuple[float, int]] = field(default_factory=list)
    _group_sent: dict[int, deque[float]] = field(default_factory=dict)
    _group_edited: dict[int, deque[float]] = field(default_factory=dict)
    _overall_sent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def flood(self, chat_id: int, seconds: float) -> None:
        with self._lock:
            self.flooded_until[chat_id] = time.monotonic() + seconds

    def check(self, method: str, params: dict[str, Any]) -> None:
        """Count a post or an edit, or refuse it with 429 and retry_after as Telegram would."""
        post, edit = _is_post(method), _is_edit(method)
        if not (post or edit):
            return
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            return
        with self._lock:
            now = time.monotonic()
            if post and (wait := self.flooded_until.get(chat_id, 0.0) - now) > 0:
                raise _too_many(wait)
            if self.enforced:
                limits = [(self._overall_sent, self.overall_limit, self.overall_window)]
                if chat_id < 0:
                    per_group, limit = (
                        (self._group_sent, self.group_limit)
                        if post
                        else (self._group_edited, self.group_edit_limit)
                    )
                    group = per_group.setdefault(chat_id, deque())
                    limits.append((group, limit, self.group_window))
                for sent, limit, window in limits:
                    while sent and sent[0] <= now - window:
                        sent.popleft()
                    if len(sent) >= limit:
                        raise _too_many(sent[0] + window - now)
                for sent, _, _ in limits:
                    sent.append(now)
            (self.posts if post else self.edits).append((now, chat_id))

    def most_per_window(self, chat_id: int, window: float) -> int:
        """The most posts to the chat that arrived within any `window` seconds."""
        with self._lock:
            times = [t for t, chat in self.posts if chat == chat_id]
        return max((sum(1 for t in times if s <= t < s + window) for s in times), default=0)


def _too_many(wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})
