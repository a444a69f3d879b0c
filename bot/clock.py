"""The bot's one source of the current time (aware, UTC), so tests can set it.

Everything that decides by the time of day — reminders, the autopilot, follow-ups, retention —
asks `clock.now()` (through the module, not a copied name), never `datetime.now` itself.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
