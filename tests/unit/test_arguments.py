"""Reading areas, points, weekdays, times and zones from command arguments."""

from __future__ import annotations

from datetime import time

import pytest

from bot.model.arguments import (
    parse_area,
    parse_point,
    parse_time_of_day,
    parse_timezone,
    parse_weekday,
)
from bot.model.catalogue import load_catalogue

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("argument", "area"),
    [
        ("1", 1),
        ("6", 6),
        ("kunde", 1),
        ("KUNDE", 1),
        ("Customer", 1),
        ("differenzierung", 2),
        ("Produkt", 3),
        ("product", 3),
        ("daten", 4),
        ("data", 4),
        ("Mitarbeiter", 5),
        ("employees", 5),
        ("value chain", 6),
        ("Value-Chain", 6),
        ("valuechain", 6),
        ("Wertschöpfungskette", 6),
        ("wertschoepfungskette", 6),
        ("wertschopfungskette", 6),
    ],
)
def test_areas_by_number_or_name(argument: str, area: int) -> None:
    assert parse_area(argument, CATALOGUE) == area


@pytest.mark.parametrize("argument", ["0", "7", "-1", "marketing", "", "<b>", "kunde produkt"])
def test_unknown_areas(argument: str) -> None:
    assert parse_area(argument, CATALOGUE) is None


def test_points() -> None:
    assert parse_point("1") == 1
    assert parse_point("20") == 20
    assert parse_point("7.") == 7
    assert [parse_point(x) for x in ("0", "21", "drei", "", "1e1", "٣")] == [None] * 6


@pytest.mark.parametrize(
    ("argument", "weekday"),
    [
        ("mo", 0),
        ("Montag", 0),
        ("monday", 0),
        ("Di", 1),
        ("tue", 1),
        ("mi", 2),
        ("wed", 2),
        ("do", 3),
        ("thursday", 3),
        ("fr", 4),
        ("Sa", 5),
        ("samstag", 5),
        ("so", 6),
        ("sun", 6),
        ("Sonntag", 6),
        ("mo.", 0),
    ],
)
def test_weekdays_in_german_and_english(argument: str, weekday: int) -> None:
    assert parse_weekday(argument) == weekday


def test_unknown_weekday() -> None:
    assert parse_weekday("xy") is None
    assert parse_weekday("") is None


def test_times_of_day() -> None:
    assert parse_time_of_day("09:00") == time(9, 0)
    assert parse_time_of_day("9:05") == time(9, 5)
    assert parse_time_of_day("17.30") == time(17, 30)
    assert [parse_time_of_day(x) for x in ("24:00", "12:60", "9", "ab:cd", "", "9:5")] == [None] * 6


def test_time_zones() -> None:
    assert parse_timezone("Europe/Berlin") == "Europe/Berlin"
    assert parse_timezone("europe/vienna") == "Europe/Vienna"
    assert parse_timezone("America/New_York") == "America/New_York"
    assert [
        parse_timezone(x) for x in ("Mars/Olympus", "", "../../etc/passwd", "Europe/Berlin; rm")
    ] == [None] * 4
    # folders of the zone database and the server's own names are no time zones
    assert [
        parse_timezone(x) for x in ("Europe", "America", "Etc", "localtime", "posix/Europe/Berlin")
    ] == [None] * 5
