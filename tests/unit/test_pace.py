"""The autopilot's rules, pure: reading `/pace`, due instants across DST, catch-up, the next
point, and the digest's 4096-character bound."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.entry_text import Kind
from bot.model.pace import (
    EVERY_DAY,
    WORKING_DAYS,
    Pace,
    PaceError,
    PaceProblem,
    autopilot_step,
    effective_due,
    following_due,
    next_pace_due,
    pace_of,
    pace_outcome,
    parse_days,
    read_pace,
    weekdays_of,
)
from bot.render.pace import days_description
from bot.render.reminder import Digest, cut_list, digest_text
from bot.render.split import telegram_length
from tests.support.fakes import CATALOGUE, TEXTS

BERLIN = "Europe/Berlin"
MO, DI, MI, DO, FR, SA, SO = range(7)


def _mask(*days: int) -> int:
    return sum(1 << day for day in days)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mo-fr", WORKING_DAYS),
        ("Mo-Fr", WORKING_DAYS),
        ("MON-FRI", WORKING_DAYS),
        ("montag–freitag", WORKING_DAYS),
        ("mo,mi,fr", _mask(MO, MI, FR)),
        ("mo, mi, fr", _mask(MO, MI, FR)),
        ("Monday,Wednesday,Friday", _mask(MO, MI, FR)),
        ("täglich", EVERY_DAY),
        ("TAEGLICH", EVERY_DAY),
        ("daily", EVERY_DAY),
        ("werktags", WORKING_DAYS),
        ("fr-mo", _mask(FR, SA, SO, MO)),
        ("di", _mask(DI)),
        ("so.", _mask(SO)),
        ("mo-mi,fr", _mask(MO, DI, MI, FR)),
    ],
)
def test_days_in_german_and_english_any_case(text: str, days: int) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(
    "text", ["mo-", "-fr", "mo,,fr", "", "montags", "mo-xx", "1-5", "mo-di-mi"]
)
def test_days_that_mean_nothing(text: str) -> None:
    assert parse_days(text) is None


def test_read_pace_says_what_is_wrong() -> None:
    assert read_pace("mo-fr 09:00") == Pace(WORKING_DAYS, time(9, 0))
    assert read_pace("mo, mi, fr 8.30") == Pace(_mask(MO, MI, FR), time(8, 30))
    assert read_pace("") == PaceError(PaceProblem.USAGE)
    assert read_pace("09:00") == PaceError(PaceProblem.USAGE)
    assert read_pace("mo- 09:00") == PaceError(PaceProblem.DAYS, "mo-")
    assert read_pace("mo-fr 24:00") == PaceError(PaceProblem.TIME, "24:00")
    assert read_pace("mo-fr 9") == PaceError(PaceProblem.TIME, "9")
    assert read_pace("mo-fr 12:60") == PaceError(PaceProblem.TIME, "12:60")


def test_stored_pace_round_trip() -> None:
    assert pace_of(None, "09:00") is None
    assert pace_of(WORKING_DAYS, None) is None
    assert pace_of(WORKING_DAYS, "09:00") == Pace(WORKING_DAYS, time(9, 0))
    assert weekdays_of(_mask(MO, FR)) == [MO, FR]


def test_nine_stays_nine_across_the_spring_change() -> None:
    # DST begins on Sunday 29 March 2026: Saturday 09:00 is 08:00 UTC, Sunday 09:00 is 07:00 UTC
    daily = Pace(EVERY_DAY, time(9, 0))
    saturday = next_pace_due(datetime(2026, 3, 27, 12, 0, tzinfo=UTC), daily, BERLIN)
    assert saturday == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    sunday = next_pace_due(saturday, daily, BERLIN)
    assert sunday == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert sunday - saturday == timedelta(hours=23)


def test_nine_stays_nine_across_the_autumn_change() -> None:
    daily = Pace(EVERY_DAY, time(9, 0))
    saturday = next_pace_due(datetime(2026, 10, 23, 12, 0, tzinfo=UTC), daily, BERLIN)
    assert saturday == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    sunday = next_pace_due(saturday, daily, BERLIN)
    assert sunday == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_working_days_skip_the_weekend() -> None:
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert next_pace_due(friday, Pace(WORKING_DAYS, time(9, 0)), BERLIN) == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )


def test_after_a_long_pause_only_the_latest_missed_time_counts() -> None:
    daily = Pace(EVERY_DAY, time(9, 0))
    stored = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday afternoon
    assert effective_due(stored, now, daily, BERLIN) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert effective_due(stored, stored, daily, BERLIN) == stored


def test_outcomes() -> None:
    due = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def outcome(late: timedelta, **flags: bool) -> str:
        values = {"is_open": True, "complete": False, "active": True, **flags}
        return pace_outcome(due, due + late, **values)

    assert outcome(timedelta(0)) == "sending"
    assert outcome(timedelta(hours=11, minutes=59)) == "sending"
    assert outcome(timedelta(hours=12, minutes=1)) == "skipped_late"
    assert outcome(timedelta(0), is_open=False) == "skipped_closed"
    assert outcome(timedelta(0), complete=True) == "skipped_complete"
    assert outcome(timedelta(0), active=False) == "skipped_inactive"


def test_no_two_cards_within_twelve_hours_after_a_catch_up() -> None:
    daily = Pace(EVERY_DAY, time(9, 0))
    saturday = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET, the day before DST
    caught_up = saturday + timedelta(hours=11, minutes=30)
    after = following_due(saturday, caught_up, daily, BERLIN, posted=True)
    # Sunday 09:00 CEST comes 11.5 hours after the catch-up: skipped, Monday is next
    assert after == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert after - caught_up >= timedelta(hours=12)
    on_time = following_due(saturday, saturday, daily, BERLIN, posted=True)
    assert on_time == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    skipped = following_due(saturday, caught_up, daily, BERLIN, posted=False)
    assert skipped == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def _view(filled: set[int]) -> BoardView:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return BoardView(
        id=1,
        title="T",
        language="de",
        status=BoardStatus.OPEN,
        created_at=now,
        entries=tuple(
            EntryView(i, point, Kind.IST, "x", 1, "A", now) for i, point in enumerate(filled)
        ),
    )


def test_the_next_empty_point_after_the_newest_card() -> None:
    model = CATALOGUE["de"]
    first = model.area(1).points
    assert autopilot_step(model, _view(set()), None, None) is not None
    step = autopilot_step(model, _view(set()), None, None)
    assert step is not None
    assert (step.point, step.area, step.opens_area) == (first[0], 1, True)
    step = autopilot_step(model, _view(set()), 1, first[0])
    assert step is not None
    assert (step.point, step.opens_area) == (first[1], False)
    # filled points are passed over, also within the area
    step = autopilot_step(model, _view({first[1]}), 1, first[0])
    assert step is not None
    assert step.point == first[2]
    # after the area's last point: the next area with empty points, and it says so
    second = model.area(2).points
    filled_area_two = set(second)
    step = autopilot_step(model, _view(filled_area_two), 1, first[-1])
    assert step is not None
    assert (step.point, step.area, step.opens_area) == (model.area(3).points[0], 3, True)
    # round to the start: the only empty point is before the current one
    everything = {p.number for p in model.points}
    step = autopilot_step(model, _view(everything - {first[0]}), 6, model.area(6).points[-1])
    assert step is not None
    assert (step.point, step.area) == (first[0], 1)
    assert autopilot_step(model, _view(everything), 1, first[0]) is None


def test_days_read_as_people_write_them() -> None:
    de, en = TEXTS["de"], TEXTS["en"]
    assert days_description(de, WORKING_DAYS) == "Mo–Fr"
    assert days_description(en, WORKING_DAYS) == "Mon–Fri"
    assert days_description(de, _mask(MO, MI, FR)) == "Mo, Mi, Fr"
    assert days_description(de, EVERY_DAY) == "täglich"
    assert days_description(de, _mask(MO, DI)) == "Mo, Di"


def test_cut_list_marks_what_it_leaves_out() -> None:
    items = [f"Name{i}" for i in range(10)]

    def more(n: int) -> str:
        return f"… und {n} weitere"

    assert cut_list(items, 1000, ", ", more) == ", ".join(items)
    cut = cut_list(items, 40, ", ", more)
    assert cut is not None
    assert telegram_length(cut) <= 40
    assert cut.endswith("weitere")
    kept = cut.split(", ")[:-1]
    assert cut.endswith(f"… und {10 - len(kept)} weitere")
    assert cut_list(items, 3, ", ", more) is None


def test_the_digest_stays_one_message_with_many_long_names_and_sections() -> None:
    model, messages = CATALOGUE["de"], TEXTS["de"]
    digest = Digest(
        title="T" * 120,
        since=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        zone=BERLIN,
        new_entries=5,
        contributors=2,
        empty=list(range(1, 21)),
        point_count=20,
        cards={p: (-1001234567890, 10_000 + p) for p in range(1, 21)},
        thread_id=123456,
        silent=[f"Ä&<{i}>" + "x" * 60 for i in range(400)],
        sections=[messages("digest_more", count=i) for i in range(300)],
    )
    text = digest_text(model, messages, digest)
    assert telegram_length(text) <= 4096
    assert "Noch nichts von: Ä&amp;&lt;0&gt;" in text
    assert "weitere" in text
    assert "20. Kommunikation zu Partnern" in text
    assert text.rstrip().endswith(messages("digest_how"))
