"""What the Mini App keeps in memory per process: members' statuses for a minute, and each
person's recent writes (a per-person rate limit)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

MEMBER_SECONDS = 60.0  # SPEC §13: membership asked from Telegram, kept at most a minute
WRITES_PER_MINUTE = 30


@dataclass
class MemberCache:
    """A person's status in a group ("" for none), as Telegram said it a short while ago."""

    seconds: float = MEMBER_SECONDS
    _entries: dict[tuple[int, int], tuple[float, str]] = field(default_factory=dict)

    def get(self, chat_id: int, person_id: int) -> str | None:
        found = self._entries.get((chat_id, person_id))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, chat_id: int, person_id: int, status: str) -> None:
        if len(self._entries) > 50_000:  # bounded: forget everything rather than grow
            self._entries.clear()
        self._entries[(chat_id, person_id)] = (time.monotonic() + self.seconds, status)


@dataclass
class WriteLimit:
    """At most `per_minute` writes per person in any 60 seconds."""

    per_minute: int = WRITES_PER_MINUTE
    _recent: dict[int, deque[float]] = field(default_factory=dict)

    def allow(self, person_id: int) -> bool:
        now = time.monotonic()
        recent = self._recent.setdefault(person_id, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return False
        recent.append(now)
        if len(self._recent) > 50_000:
            self._recent = {person_id: recent}
        return True
