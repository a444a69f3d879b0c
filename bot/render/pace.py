"""The autopilot's days and time as people read them: "Mo–Fr, 09:00 (Europe/Berlin)"."""

from __future__ import annotations

from bot.model.pace import EVERY_DAY, weekdays_of
from bot.texts import Html, Messages


def days_description(messages: Messages, days: int) -> str:
    """`täglich`, `Mo–Fr`, `Mo, Mi, Fr`: runs of three or more days are written as a range."""
    if days & EVERY_DAY == EVERY_DAY:
        return messages.plain("pace_daily")
    names = messages.plain("pace_day_names").split(",")
    runs: list[list[int]] = []
    for day in weekdays_of(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            parts.extend(names[day] for day in run)
    return ", ".join(parts)


def pace_description(messages: Messages, days: int, at: str, zone: str) -> Html:
    """The pace in one phrase, e.g. "Mo–Fr um 09:00 (Europe/Berlin)"."""
    return messages("pace_description", days=days_description(messages, days), time=at, zone=zone)
