"""The autopilot (`/pace`): reading its days and time, its due instants, what it posts next.

Days are a bitmask, bit 0 = Monday … bit 6 = Sunday. Due instants are wall-clock times in the
board's zone, so 09:00 stays 09:00 across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from bot.model.arguments import parse_time_of_day, parse_weekday
from bot.model.board import BoardView
from bot.model.catalogue import ModelText
from bot.model.schedule import CATCH_UP_LIMIT

EVERY_DAY = 0b111_1111
WORKING_DAYS = 0b001_1111
OFF_WORDS = frozenset({"off", "aus", "stop", "stopp"})
_DAILY = frozenset({"täglich", "taeglich", "taglich", "daily", "everyday", "alle", "all"})
_WORKING = frozenset({"werktags", "weekdays", "workdays"})
_RANGE = re.compile(r"([^\-–]+)[\-–]([^\-–]+)")


@dataclass(frozen=True)
class Pace:
    """On which weekdays (bitmask) and at what local time the autopilot posts."""

    days: int
    at: time

    @property
    def hhmm(self) -> str:
        return f"{self.at:%H:%M}"


class PaceProblem(Enum):
    """What is wrong with a `/pace` argument."""

    USAGE = "usage"
    DAYS = "days"
    TIME = "time"


@dataclass(frozen=True)
class PaceError:
    problem: PaceProblem
    given: str = ""


def pace_of(days: int | None, at: str | None) -> Pace | None:
    """The stored pace of a board (days bitmask, `HH:MM`), or None when it is off."""
    if not days or not at:
        return None
    hour, minute = at.split(":")
    return Pace(days & EVERY_DAY, time(int(hour), int(minute)))


def weekdays_of(days: int) -> list[int]:
    """The weekdays (Monday = 0) in a bitmask, in week order."""
    return [day for day in range(7) if days >> day & 1]


def _day_range(first: int, last: int) -> int:
    """`first` to `last` inclusive; `fr-mo` wraps over the weekend."""
    mask, day = 0, first
    while True:
        mask |= 1 << day
        if day == last:
            return mask
        day = (day + 1) % 7


def parse_days(text: str) -> int | None:
    """`mo-fr`, `mo,mi,fr`, `täglich`/`daily`, German or English names, any case; else None."""
    folded = re.sub(r"\s+", "", text.casefold())
    if not folded:
        return None
    if folded in _DAILY:
        return EVERY_DAY
    if folded in _WORKING:
        return WORKING_DAYS
    mask = 0
    for part in folded.split(","):
        ranged = _RANGE.fullmatch(part)
        if ranged is not None:
            first, last = parse_weekday(ranged.group(1)), parse_weekday(ranged.group(2))
            if first is None or last is None:
                return None
            mask |= _day_range(first, last)
            continue
        day = parse_weekday(part)
        if day is None:
            return None
        mask |= 1 << day
    return mask or None


def read_pace(argument: str) -> Pace | PaceError:
    """`<days> <HH:MM>`: the last word is the time, everything before it the days."""
    words = argument.split()
    if len(words) < 2:
        return PaceError(PaceProblem.USAGE)
    days_text, time_text = " ".join(words[:-1]), words[-1]
    days = parse_days(days_text)
    if days is None:
        return PaceError(PaceProblem.DAYS, days_text[:30])
    at = parse_time_of_day(time_text)
    if at is None:
        return PaceError(PaceProblem.TIME, time_text[:30])
    return Pace(days, at)


def _candidate(day: datetime, at: time, zone: ZoneInfo) -> datetime:
    # a time inside the spring gap maps forward, a doubled autumn time counts once (fold 0)
    return datetime.combine(day.date(), at, tzinfo=zone).astimezone(UTC)


def next_pace_due(after: datetime, pace: Pace, zone: str) -> datetime:
    """The first instant strictly after `after` that is a pace day at the pace time, in UTC."""
    tz = ZoneInfo(zone)
    local = after.astimezone(tz)
    for offset in range(9):
        day = local + timedelta(days=offset)
        if pace.days >> day.weekday() & 1:
            candidate = _candidate(day, pace.at, tz)
            if candidate > after:
                return candidate
    raise ValueError("a pace needs at least one weekday")


def last_pace_due(at_or_before: datetime, pace: Pace, zone: str) -> datetime:
    """The latest instant not after `at_or_before` that is a pace day at the pace time."""
    tz = ZoneInfo(zone)
    local = at_or_before.astimezone(tz)
    for offset in range(9):
        day = local - timedelta(days=offset)
        if pace.days >> day.weekday() & 1:
            candidate = _candidate(day, pace.at, tz)
            if candidate <= at_or_before:
                return candidate
    raise ValueError("a pace needs at least one weekday")


def effective_due(stored: datetime, now: datetime, pace: Pace, zone: str) -> datetime:
    """The due instant a sweep at `now` serves: the latest one since `stored` (the one kept in
    the database), so after a long pause only the most recent missed card is considered."""
    return max(stored, last_pace_due(now, pace, zone))


SENDING = "sending"


def pace_outcome(
    due: datetime, now: datetime, *, is_open: bool, complete: bool, active: bool
) -> str:
    """What the autopilot does at a due instant: post, or which reason to skip."""
    if not is_open:
        return "skipped_closed"
    if now - due > CATCH_UP_LIMIT:
        return "skipped_late"
    if complete:
        return "skipped_complete"
    if not active:
        return "skipped_inactive"
    return SENDING


def following_due(due: datetime, now: datetime, pace: Pace, zone: str, *, posted: bool) -> datetime:
    """The due instant after this one. After a post, none within the next 12 hours: a card
    caught up late in the evening never meets the next morning's card half a day later."""
    after = max(due, now + CATCH_UP_LIMIT) if posted else max(due, now)
    return next_pace_due(after, pace, zone)


@dataclass(frozen=True)
class AutopilotStep:
    """The point the autopilot posts, its area, and whether that means moving to a new area."""

    point: int
    area: int
    opens_area: bool


def autopilot_step(
    model: ModelText, board: BoardView, current_area: int | None, current_point: int | None
) -> AutopilotStep | None:
    """The next point without an Ist entry after the newest card (the current point): in model
    order within the current area, then the following areas, round to the start; None when
    every point is filled.

    Counting from the newest card — not from the autopilot's own last post — means a
    moderator's `/next` before the due time moves the group once, not twice.
    """
    empty = set(board.empty_points)
    order = [(area.number, point) for area in model.areas for point in area.points]
    if not empty or not order:
        return None
    points = [point for _, point in order]
    if current_point in points:
        start = points.index(current_point) + 1
    elif current_area is not None:
        start = next((i for i, (area, _) in enumerate(order) if area == current_area), 0)
    else:
        start = 0
    for offset in range(len(order)):
        area, point = order[(start + offset) % len(order)]
        if point in empty:
            return AutopilotStep(point, area, opens_area=area != current_area)
    return None
