"""Dates and times as the reader writes them: "26.11.2026" in German, "26 November 2026" in English."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from bot.texts import Messages


def reader_date(day: date, messages: Messages) -> str:
    """A date in the form of `date_pattern` (tokens YYYY, MMMM, MM, DD, D)."""
    months = messages.plain("month_names").split(",")
    tokens = {
        "YYYY": f"{day.year:04d}",
        "MMMM": months[day.month - 1],
        "MM": f"{day.month:02d}",
        "DD": f"{day.day:02d}",
        "D": str(day.day),
    }
    pattern = messages.plain("date_pattern")
    shown = []
    index = 0
    while index < len(pattern):
        for token, value in tokens.items():
            if pattern.startswith(token, index):
                shown.append(value)
                index += len(token)
                break
        else:
            shown.append(pattern[index])
            index += 1
    return "".join(shown)


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
