"""Weekly due instants in wall-clock time, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.model.schedule import next_due

MONDAY = 0


def test_monday_nine_berlin_in_winter_and_summer() -> None:
    winter = next_due(datetime(2026, 1, 7, 12, 0, tzinfo=UTC), MONDAY, time(9, 0), "Europe/Berlin")
    assert winter == datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # CET = UTC+1
    summer = next_due(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), MONDAY, time(9, 0), "Europe/Berlin")
    assert summer == datetime(2026, 7, 6, 7, 0, tzinfo=UTC)  # CEST = UTC+2


def test_across_the_spring_change_nine_stays_nine() -> None:
    # DST starts on Sunday 29 March 2026; the Monday before is CET, the Monday after CEST
    before = next_due(datetime(2026, 3, 23, 8, 0, tzinfo=UTC), MONDAY, time(9, 0), "Europe/Berlin")
    assert before == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    again = next_due(datetime(2026, 3, 23, 7, 59, tzinfo=UTC), MONDAY, time(9, 0), "Europe/Berlin")
    assert again == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


def test_across_the_autumn_change_nine_stays_nine() -> None:
    # DST ends on Sunday 25 October 2026
    after = next_due(datetime(2026, 10, 19, 7, 0, tzinfo=UTC), MONDAY, time(9, 0), "Europe/Berlin")
    assert after == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_a_time_inside_the_changes_themselves() -> None:
    # Sunday 02:30 does not exist on 29 March; it maps to 03:30 CEST (01:30 UTC)
    spring = next_due(datetime(2026, 3, 28, 0, 0, tzinfo=UTC), 6, time(2, 30), "Europe/Berlin")
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # Sunday 02:30 happens twice on 25 October; the first one counts
    autumn = next_due(datetime(2026, 10, 24, 0, 0, tzinfo=UTC), 6, time(2, 30), "Europe/Berlin")
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_zone_without_daylight_saving() -> None:
    for start in (datetime(2026, 1, 7, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)):
        due = next_due(start, MONDAY, time(9, 0), "Asia/Tokyo")
        assert due.hour == 0
        assert due.weekday() == MONDAY


def test_strictly_after_and_weekly() -> None:
    due = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert next_due(due, MONDAY, time(9, 0), "Europe/Berlin") == datetime(
        2026, 12, 7, 8, 0, tzinfo=UTC
    )
