"""Dates and times as the board's people write them (German or English), in the board's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.texts import Html, Messages

_FORMATS = {
    "de": "EEEE, d. MMMM y, HH:mm",
    "en": "EEEE, d MMMM y, HH:mm",
}


def local_time(moment: datetime, zone: str, language: str) -> str:
    """A moment in the zone, e.g. "Montag, 30. November 2026, 09:00 (Europe/Berlin)"."""
    local = moment.astimezone(ZoneInfo(zone))
    pattern = _FORMATS.get(language, _FORMATS["de"])
    return f"{format_datetime(local, pattern, locale=language)} ({zone})"


def reminder_description(messages: Messages, weekday: int | None, at: str, zone: str) -> Html:
    """The weekly reminder's day and time, or that it is off."""
    if weekday is None:
        return messages("reminder_disabled")
    return messages("reminder_description", weekday=messages.weekday(weekday), time=at, zone=zone)


def next_reminder_line(messages: Messages, next_at: datetime | None, zone: str) -> Html:
    """The status line about the next reminder, in local time."""
    if next_at is None:
        return messages("status_reminder_off")
    return messages("status_next_reminder", when=local_time(next_at, zone, messages.language))
