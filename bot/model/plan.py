"""The plan (Maßnahmenplan, SPEC §10): every live Soll entry is a measure with a number, an
owner, a due date, a status and the action step it serves. Reading what moderators type
(`/measure 3 due 1.12.`), and the rules a plan follows (overdue, counts, the proposed step).

Pure: no Telegram, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.model.arguments import fold
from bot.model.catalogue import ActionStep

OWNER_LIMIT = 64  # characters of an owner's name (Telegram's own limit for a first name)
STEP_COUNT = 7
RELATIVE_LIMIT = 520  # weeks or days ahead one may write as `+Nw` / `+Nd` (ten years of weeks)


class Status(StrEnum):
    """Where a measure stands; stored as these codes, shown in the reader's words."""

    OPEN = "open"
    DOING = "doing"
    DONE = "done"

    def following(self) -> Status:
        """The next status when tapped: offen → läuft → erledigt → offen."""
        order = list(Status)
        return order[(order.index(self) + 1) % len(order)]


_STATUS_WORDS: dict[str, Status] = {}
for _status, _words in (
    (Status.OPEN, ("offen", "open", "todo", "neu", "new")),
    (Status.DOING, ("laeuft", "lauft", "doing", "inarbeit", "running", "started", "wip")),
    (Status.DONE, ("erledigt", "done", "fertig", "finished", "closed")),
):
    for _word in _words:
        _STATUS_WORDS[_word] = _status


def parse_status(text: str) -> Status | None:
    """`offen`/`läuft`/`erledigt` or `open`/`doing`/`done` (any case, with or without umlauts)."""
    return _STATUS_WORDS.get(fold(text))


def parse_step(text: str, count: int = STEP_COUNT) -> int | None:
    """An action step 1–7, or None."""
    text = text.strip().rstrip(".")
    if re.fullmatch(r"[0-9]{1,2}", text) and 1 <= int(text) <= count:
        return int(text)
    return None


def parse_measure_number(text: str) -> int | None:
    """A measure number as people write it: `3`, `#3`, `Nr. 3` is not needed; `3.` is fine."""
    text = text.strip().lstrip("#").rstrip(".")
    if re.fullmatch(r"[0-9]{1,6}", text) and int(text) > 0:
        return int(text)
    return None


# ---- due dates ------------------------------------------------------------------------------

_TODAY = ("heute", "today")
_TOMORROW = ("morgen", "tomorrow")
_DAY_AFTER = ("uebermorgen", "ubermorgen")
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.?([0-9]{2}|[0-9]{4})?")
_RELATIVE = re.compile(r"\+\s*([0-9]{1,4})\s*([dtw])", re.IGNORECASE)
_NEXT_OCCURRENCE_YEARS = 8  # 29.2. comes round within eight years


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_due(text: str, today: date) -> date | None:
    """A due date from what a moderator writes, relative to the board's `today`.

    `2026-12-01`, `1.12.2026`, `1.12.26`, `1.12.` (its next occurrence from today on),
    `heute`/`today`, `morgen`/`tomorrow`, `übermorgen`, `+3d` (`+3t`), `+2w`.
    None for anything else, and for a day no calendar has (`31.02.`). Past dates are
    returned as they are; whether they are allowed is the caller's rule (`is_past`).
    """
    raw = text.strip()
    word = fold(raw)
    if word in _TODAY:
        return today
    if word in _TOMORROW:
        return today + timedelta(days=1)
    if word in _DAY_AFTER:
        return today + timedelta(days=2)
    relative = _RELATIVE.fullmatch(raw)
    if relative is not None:
        amount, unit = int(relative.group(1)), relative.group(2).casefold()
        days = amount * 7 if unit == "w" else amount
        if days > RELATIVE_LIMIT * 7:
            return None
        return today + timedelta(days=days)
    iso = _ISO.fullmatch(raw)
    if iso is not None:
        return _day(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    dotted = _DOTTED.fullmatch(raw)
    if dotted is None:
        return None
    day, month, year = int(dotted.group(1)), int(dotted.group(2)), dotted.group(3)
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _day(full, month, day)
    for offset in range(_NEXT_OCCURRENCE_YEARS + 1):
        found = _day(today.year + offset, month, day)
        if found is not None and found >= today:
            return found
    return None


def is_past(due: date, today: date) -> bool:
    """A new due date before the board's today is refused."""
    return due < today


def local_today(now: datetime, zone: str) -> date:
    """The date it is now in the board's time zone."""
    return now.astimezone(ZoneInfo(zone)).date()


CLEAR_WORDS = frozenset({"keine", "keiner", "niemand", "nichts", "none", "nobody", "off", "aus"})


def clears(text: str) -> bool:
    """`-`, `keine`, `none` …: take the owner or due date away."""
    return text.strip() in ("-", "–", "—") or fold(text) in CLEAR_WORDS


# ---- owners ---------------------------------------------------------------------------------

_USERNAME = re.compile(r"@([A-Za-z][A-Za-z0-9_]{4,31})")  # Telegram: 5–32 characters


@dataclass(frozen=True)
class Owner:
    """Who takes care of a measure: a name, or a Telegram @username, and the id when known."""

    name: str | None = None
    username: str | None = None
    person_id: int | None = None

    @property
    def shown(self) -> str:
        """The owner as the plan names them."""
        if self.name and self.username:
            return f"{self.name} (@{self.username})"
        if self.username:
            return f"@{self.username}"
        return self.name or ""


def clean_name(text: str, limit: int = OWNER_LIMIT) -> str:
    """A person's name: control characters dropped, white space collapsed, cut to `limit`."""
    printable = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    collapsed = " ".join(printable.split())
    return collapsed[:limit].rstrip()


def parse_owner(text: str) -> Owner | None:
    """`@username` or a name (trimmed, capped); None for nothing usable."""
    raw = text.strip()
    username = _USERNAME.fullmatch(raw)
    if username is not None:
        return Owner(username=username.group(1))
    if raw.startswith("@"):
        return None  # looks like a username but is not one Telegram allows
    name = clean_name(raw)
    return Owner(name=name) if name else None


# ---- the plan as a whole ----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureView:
    """A measure as rules and renderers see it; text and point come from its Soll entry."""

    number: int
    point: int
    text: str
    step: int | None
    owner: Owner | None
    due: date | None
    status: Status

    def overdue(self, today: date) -> bool:
        return is_overdue(self.due, self.status, today)


def is_overdue(due: date | None, status: Status, today: date) -> bool:
    """Past its due date and not done."""
    return due is not None and due < today and status is not Status.DONE


@dataclass(frozen=True)
class PlanCounts:
    """The plan's summary line: n measures, n without owner, n overdue, n done."""

    total: int
    without_owner: int
    overdue: int
    done: int


def counts(measures: Iterable[MeasureView], today: date) -> PlanCounts:
    listed = list(measures)
    return PlanCounts(
        total=len(listed),
        without_owner=sum(1 for m in listed if m.owner is None),
        overdue=sum(1 for m in listed if m.overdue(today)),
        done=sum(1 for m in listed if m.status is Status.DONE),
    )


def due_within(
    measures: Iterable[MeasureView], today: date, days: int
) -> tuple[list[MeasureView], list[MeasureView]]:
    """Measures not done: due from today on within `days` days, and overdue ones (by date)."""
    soon: list[MeasureView] = []
    late: list[MeasureView] = []
    for measure in measures:
        if measure.due is None or measure.status is Status.DONE:
            continue
        if measure.due < today:
            late.append(measure)
        elif measure.due < today + timedelta(days=days):
            soon.append(measure)
    key = lambda m: (m.due, m.number)  # noqa: E731
    return sorted(soon, key=key), sorted(late, key=key)


def proposed_step(steps: Sequence[ActionStep], point: int) -> int | None:
    """The action step a point's measure serves first: the source's own link, else the project's."""
    for step in steps:
        if point in step.source_points:
            return step.number
    for step in steps:
        if point in step.points:
            return step.number
    return None


def step_proposals(steps: Sequence[ActionStep], point_count: int = 20) -> dict[int, int]:
    """Point → proposed step, for every point the model maps to a step."""
    proposals = {point: proposed_step(steps, point) for point in range(1, point_count + 1)}
    return {point: step for point, step in proposals.items() if step is not None}


# ---- follow-up ------------------------------------------------------------------------------


def followup_instant(due: date, remind_time: time, zone: str) -> datetime:
    """When a measure due on `due` is named: the day before, at the board's reminder time (UTC)."""
    tz = ZoneInfo(zone)
    local = datetime.combine(due - timedelta(days=1), remind_time, tzinfo=tz)
    return local.astimezone(UTC)


def followup_window(now: datetime, late_by: timedelta) -> tuple[date, date]:
    """The due dates (inclusive) whose follow-up instant may lie in (now - late_by, now] in any
    time zone: a generous range to ask the index for; `followup_instant` decides exactly."""
    return (now - late_by).date(), now.date() + timedelta(days=2)
