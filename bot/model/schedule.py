"""The weekly reminder's due instants, in wall-clock time of the board's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

CATCH_UP_LIMIT = timedelta(hours=12)


def next_due(after: datetime, weekday: int, at: time, zone: str) -> datetime:
    """The first instant strictly after `after` that is `weekday` at `at` local time, in UTC."""
    tz = ZoneInfo(zone)
    local = after.astimezone(tz)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=7)
    raise AssertionError("no due instant within three weeks")  # pragma: no cover


def parse_hhmm(value: str) -> time:
    """The stored `HH:MM` as a time."""
    hour, minute = value.split(":")
    return time(int(hour), int(minute))
