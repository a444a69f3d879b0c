"""The plan's rules (SPEC §10): statuses, due dates, owners, steps, overdue, follow-up instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model.catalogue import load_catalogue
from bot.model.plan import (
    OWNER_LIMIT,
    MeasureView,
    Owner,
    Status,
    clears,
    counts,
    due_within,
    followup_instant,
    followup_window,
    is_overdue,
    is_past,
    local_today,
    parse_due,
    parse_measure_number,
    parse_owner,
    parse_status,
    parse_step,
    proposed_step,
    step_proposals,
)

TODAY = date(2026, 11, 26)  # a Thursday
CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("offen", Status.OPEN),
        ("Open", Status.OPEN),
        ("läuft", Status.DOING),
        ("LÄUFT", Status.DOING),
        ("laeuft", Status.DOING),
        ("lauft", Status.DOING),
        ("doing", Status.DOING),
        ("in Arbeit", Status.DOING),
        ("erledigt", Status.DONE),
        ("done", Status.DONE),
        (" Erledigt ", Status.DONE),
    ],
)
def test_status_in_both_languages(word: str, status: Status) -> None:
    assert parse_status(word) is status


@pytest.mark.parametrize("word", ["", "bald", "fast fertig", "closed-ish", "123"])
def test_unknown_status(word: str) -> None:
    assert parse_status(word) is None


def test_status_cycles_open_doing_done() -> None:
    assert Status.OPEN.following() is Status.DOING
    assert Status.DOING.following() is Status.DONE
    assert Status.DONE.following() is Status.OPEN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("1.12.2026", date(2026, 12, 1)),
        ("01.12.2026", date(2026, 12, 1)),
        ("1.12.26", date(2026, 12, 1)),
        ("1.12.", date(2026, 12, 1)),
        ("1.12", date(2026, 12, 1)),
        ("26.11.", TODAY),  # today is its own next occurrence
        ("25.11.", date(2027, 11, 25)),  # yesterday's day comes round next year
        ("29.2.", date(2028, 2, 29)),  # the next leap day
        ("morgen", TODAY + timedelta(days=1)),
        ("Tomorrow", TODAY + timedelta(days=1)),
        ("übermorgen", TODAY + timedelta(days=2)),
        ("heute", TODAY),
        ("+2w", TODAY + timedelta(weeks=2)),
        ("+3d", TODAY + timedelta(days=3)),
        ("+3t", TODAY + timedelta(days=3)),
        ("+ 1 W", TODAY + timedelta(weeks=1)),
    ],
)
def test_due_dates(text: str, expected: date) -> None:
    assert parse_due(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["31.02.", "31.02.2027", "2026-02-30", "bald", "", "13.13.", "+2m", "nächste Woche", "+99999w"],
)
def test_no_due_date(text: str) -> None:
    assert parse_due(text, TODAY) is None


def test_past_dates_are_past() -> None:
    yesterday = parse_due("25.11.2026", TODAY)
    assert yesterday is not None
    assert is_past(yesterday, TODAY)
    assert not is_past(TODAY, TODAY)


def test_local_today_is_the_boards_date() -> None:
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    assert local_today(late, "Europe/Berlin") == date(2026, 11, 27)
    assert local_today(late, "America/New_York") == date(2026, 11, 26)


@given(st.text(max_size=40))
def test_no_text_crashes_the_date_reader(text: str) -> None:
    found = parse_due(text, TODAY)
    assert found is None or isinstance(found, date)


@pytest.mark.parametrize(("text", "step"), [("1", 1), ("7", 7), (" 3. ", 3)])
def test_steps(text: str, step: int) -> None:
    assert parse_step(text) == step


@pytest.mark.parametrize("text", ["0", "8", "12", "drei", "", "-1"])
def test_no_step(text: str) -> None:
    assert parse_step(text) is None


def test_measure_numbers() -> None:
    assert parse_measure_number("3") == 3
    assert parse_measure_number("#12") == 12
    assert parse_measure_number("0") is None
    assert parse_measure_number("x") is None


def test_owner_as_username_or_name() -> None:
    assert parse_owner("@anna_mueller") == Owner(username="anna_mueller")
    assert parse_owner("@anna_mueller").shown == "@anna_mueller"  # type: ignore[union-attr]
    assert parse_owner("  Anna   Müller ") == Owner(name="Anna Müller")
    assert parse_owner("@a") is None  # no username Telegram allows
    assert parse_owner("   ") is None
    long = parse_owner("B" * 500)
    assert long is not None
    assert long.name is not None
    assert len(long.name) == OWNER_LIMIT
    assert parse_owner("Anna\x00\nBen") == Owner(name="Anna Ben")
    assert Owner(name="Anna", username="anna_m").shown == "Anna (@anna_m)"


def test_clear_words() -> None:
    assert clears("-")
    assert clears("keine")
    assert clears("none")
    assert not clears("Anna")


def _measure(
    number: int, due: date | None, status: Status = Status.OPEN, owner: str | None = None
) -> MeasureView:
    return MeasureView(
        number=number,
        point=1,
        text=f"Maßnahme {number}",
        step=None,
        owner=Owner(name=owner) if owner else None,
        due=due,
        status=status,
    )


def test_overdue_and_counts() -> None:
    plan = [
        _measure(1, TODAY - timedelta(days=1)),
        _measure(2, TODAY - timedelta(days=3), Status.DONE, owner="Anna"),
        _measure(3, TODAY, Status.DOING, owner="Ben"),
        _measure(4, None),
    ]
    assert is_overdue(TODAY - timedelta(days=1), Status.DOING, TODAY)
    assert not is_overdue(TODAY, Status.OPEN, TODAY)
    assert not is_overdue(TODAY - timedelta(days=1), Status.DONE, TODAY)
    tally = counts(plan, TODAY)
    assert (tally.total, tally.without_owner, tally.overdue, tally.done) == (4, 2, 1, 1)


def test_due_within_a_week_and_overdue() -> None:
    plan = [
        _measure(1, TODAY + timedelta(days=6)),
        _measure(2, TODAY + timedelta(days=7)),  # next week's, not this one's
        _measure(3, TODAY),
        _measure(4, TODAY - timedelta(days=2)),
        _measure(5, TODAY + timedelta(days=1), Status.DONE),
        _measure(6, None),
    ]
    soon, late = due_within(plan, TODAY, 7)
    assert [m.number for m in soon] == [3, 1]
    assert [m.number for m in late] == [4]


def test_proposed_step_follows_the_catalogue() -> None:
    steps = CATALOGUE.reference.action_steps
    for step in steps:
        for point in step.points:
            assert proposed_step(steps, point) == step.number
    proposals = step_proposals(steps)
    unmapped = set(range(1, 21)) - {p for s in steps for p in s.points}
    assert set(proposals) == set(range(1, 21)) - unmapped
    assert all(proposed_step(steps, point) is None for point in unmapped)


def test_follow_up_is_the_day_before_at_reminder_time() -> None:
    at = followup_instant(date(2026, 12, 1), time(9, 0), "Europe/Berlin")
    assert at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    summer = followup_instant(date(2026, 7, 1), time(9, 0), "Europe/Berlin")
    assert summer == datetime(2026, 6, 30, 7, 0, tzinfo=UTC)
    # the window of due dates asked from the database covers every time zone
    now = datetime(2026, 11, 30, 8, 1, tzinfo=UTC)
    first, last = followup_window(now, timedelta(hours=12))
    assert first <= date(2026, 12, 1) <= last
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        instant = followup_instant(now.date() + timedelta(days=1), time(0, 0), zone)
        due = now.date() + timedelta(days=1)
        if instant <= now:
            assert first <= due <= last
