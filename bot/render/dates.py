"""Dates and times as the reader writes them: "26.11.2026" in German, "26 November 2026" in English."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel.dates import format_date

from bot.texts import Messages


def reader_date(day: date, messages: Messages) -> str:
    """A date in the reader's form: `date_pattern` is a CLDR pattern (Babel), e.g. "dd.MM.y"."""
    return format_date(day, messages.plain("date_pattern"), locale=messages.language)


def reader_moment(moment: datetime, zone: tzinfo | None, messages: Messages) -> str:
    """A moment in the reader's time zone: date in the reader's form and HH:MM."""
    local = moment.astimezone(zone)
    return (
        messages.plain("date_time")
        .replace("{date}", reader_date(local.date(), messages))
        .replace("{time}", f"{local:%H:%M}")
    )


def zone_name(zone: tzinfo | None, moment: datetime) -> str:
    """The name of the reader's time zone, e.g. "Europe/Berlin" or "UTC"."""
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else moment.astimezone(zone).tzname() or "UTC"
