"""Reading command arguments: areas, points, weekdays, times of day, time zones."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import time
from zoneinfo import available_timezones

from bot.model.catalogue import Catalogue

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case, umlauts spelt out, accents and non-letters dropped."""
    lowered = text.casefold().translate(_UMLAUTS)
    plain = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in plain if ch.isascii() and ch.isalnum())


def _fold_plain(text: str) -> str:
    """Like fold, but umlauts become their base letter (`wertschopfungskette`)."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in plain if ch.isascii() and ch.isalnum())


def parse_area(argument: str, catalogue: Catalogue) -> int | None:
    """The area number for `1`–`6` or a name in any language, any case, with or without umlauts."""
    argument = argument.strip()
    if re.fullmatch(r"[0-9]+", argument):
        number = int(argument)
        return number if 1 <= number <= len(catalogue.reference.areas) else None
    wanted = {fold(argument), _fold_plain(argument)} - {""}
    for text in catalogue.languages.values():
        for area in text.areas:
            names = (area.name, area.key, *area.aliases)
            forms = {fold(n) for n in names} | {_fold_plain(n) for n in names}
            if wanted & forms:
                return area.number
    return None


def parse_point(argument: str, point_count: int = 20) -> int | None:
    """The point number 1–20, or None."""
    argument = argument.strip().rstrip(".")
    if re.fullmatch(r"[0-9]{1,3}", argument) and 1 <= int(argument) <= point_count:
        return int(argument)
    return None


_WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mo", "mon", "montag", "monday"),
        ("di", "die", "dienstag", "tu", "tue", "tues", "tuesday"),
        ("mi", "mit", "mittwoch", "we", "wed", "wednesday"),
        ("do", "don", "donnerstag", "th", "thu", "thur", "thurs", "thursday"),
        ("fr", "fri", "freitag", "friday"),
        ("sa", "sam", "samstag", "sonnabend", "sat", "saturday"),
        ("so", "son", "sonntag", "su", "sun", "sunday"),
    )
):
    for _name in _names:
        _WEEKDAYS[_name] = _index


def parse_weekday(argument: str) -> int | None:
    """Monday = 0 … Sunday = 6, from German or English names and abbreviations."""
    return _WEEKDAYS.get(argument.strip().rstrip(".").casefold())


def parse_time_of_day(argument: str) -> time | None:
    """`HH:MM` (or `H.MM`) as a time of day, or None if impossible."""
    match = re.fullmatch(r"([0-9]{1,2})[:.]([0-9]{2})", argument.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_timezone(argument: str) -> str | None:
    """The canonical IANA name for `Area/City` (any case), or None."""
    argument = argument.strip()
    if not argument or len(argument) > 64 or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", argument):
        return None
    # only the IANA names: not a folder ("Europe"), nor the server's own ("localtime",
    # "posix/…", "right/…"), which ZoneInfo would open too
    lowered = argument.casefold()
    for name in _zone_names():
        if name.casefold() == lowered:
            return name
    return None


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name != "localtime" and not name.startswith(("posix/", "right/"))
    )
