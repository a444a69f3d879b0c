"""The Ist/Soll reading of replies and of /ist, /soll arguments."""

from __future__ import annotations

import pytest

from bot.model.entry_text import (
    Kind,
    PointOutOfRange,
    clean_title,
    parse_command_entry,
    parse_entry,
)


@pytest.mark.parametrize(
    ("raw", "kind", "text"),
    [
        ("Kunden wollen Farben", Kind.IST, "Kunden wollen Farben"),
        ("Ist: heute per Telefon", Kind.IST, "heute per Telefon"),
        ("current: by phone", Kind.IST, "by phone"),
        ("Soll: Konfigurator", Kind.SOLL, "Konfigurator"),
        ("SOLL:Konfigurator", Kind.SOLL, "Konfigurator"),
        ("ziel: eine Woche Lieferzeit", Kind.SOLL, "eine Woche Lieferzeit"),
        ("Target : one week", Kind.SOLL, "one week"),
        ("  Soll:  mehrere\nZeilen  ", Kind.SOLL, "mehrere\nZeilen"),
        ("Sollwert: 5", Kind.IST, "Sollwert: 5"),
        ("Das Ziel: klar", Kind.IST, "Das Ziel: klar"),
        ("Soll:", Kind.SOLL, ""),
    ],
)
def test_prefix_decides_the_side(raw: str, kind: Kind, text: str) -> None:
    parsed = parse_entry(raw)
    assert (parsed.kind, parsed.text) == (kind, text)


@pytest.mark.parametrize(
    ("arguments", "point", "text"),
    [
        ("3 Kunden nennen Maße ungern", 3, "Kunden nennen Maße ungern"),
        ("20 x", 20, "x"),
        ("Text ohne Nummer", None, "Text ohne Nummer"),
        ("12\nzweite Zeile", 12, "zweite Zeile"),
        ("3D-Druck ist spannend", None, "3D-Druck ist spannend"),
        ("", None, ""),
        ("7", 7, ""),
        ("4. Maße", 4, "Maße"),  # point numbers as people write them
        ("4: Maße", 4, "Maße"),
        ("4) Maße", 4, "Maße"),
        ("3 \u200b\u200b", 3, ""),  # nothing visible: empty, refused by the handler
        ("\u202e", None, ""),
    ],
)
def test_command_arguments(arguments: str, point: int | None, text: str) -> None:
    parsed = parse_command_entry(arguments)
    assert (parsed.point, parsed.text) == (point, text)


@pytest.mark.parametrize(
    "arguments",
    ["0 Text", "21 Text", "-1 Text", "999999999999999999999 x", "+25 x", "25. x", "0: x"],
)
def test_a_number_outside_1_to_20_is_an_error(arguments: str) -> None:
    with pytest.raises(PointOutOfRange):
        parse_command_entry(arguments)


@pytest.mark.parametrize("raw", ["\u200b", "\u200b\u200b", "Soll: \u200e\u202e", " \ufeff "])
def test_a_reply_of_invisible_characters_is_empty(raw: str) -> None:
    assert parse_entry(raw).text == ""


def test_titles_lose_direction_overrides_and_must_show_something() -> None:
    assert clean_title("\u202eGeheim", 120) == "Geheim"
    assert clean_title("שלום \u2067x\u2069", 120) == "שלום x"
    assert clean_title("\u200b\u200b", 120) is None
    assert (
        clean_title("👨\u200d👩\u200d👧 Familie", 120) == "👨\u200d👩\u200d👧 Familie"
    )  # joiners stay
