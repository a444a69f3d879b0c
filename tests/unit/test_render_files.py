"""Markdown and JSON of a board: every entry exactly, a documented shape, safe file names."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.catalogue import load_catalogue
from bot.model.demo import demo_board
from bot.model.entry_text import Kind
from bot.model.plan_rows import PlanRow
from bot.playground.emulator.telegram_html import check_html
from bot.render import html as render
from bot.render.files import board_json, board_markdown, file_stem, parse_markdown
from bot.texts import load_texts
from bot.unitext import safe_line, safe_text

CATALOGUE = load_catalogue()
TEXTS = load_texts()
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "board-export.schema.json").read_text()
)
TRICKY = [
    "<b>nicht fett</b> & &amp; &lt;",
    "Zeile 1\nZeile 2\n\n  eingerückt  ",
    "Emoji 🚲👍🏽 und 👨‍👩‍👧",
    "* kein Punkt\n# keine Überschrift\n> kein Zitat\n- [ ] kein Häkchen",
    "Backslash \\ und `code` und _unter_ und |Tabelle|",
    "ﺍﻟﻌﺮﺑﻴﺔ right-to-left \u202e gespiegelt",
    "- **Ist** · Eve · 2026-01-01 00:00 UTC",
    "  > sieht aus wie ein Zitat",
]


def _view(texts: list[str], language: str = "de") -> BoardView:
    return BoardView(
        id=3,
        title="Fahrrad <Test> & Co",
        language=language,
        status=BoardStatus.OPEN,
        created_at=START,
        entries=tuple(
            EntryView(
                id=i,
                point=1 + i % 20,
                kind=Kind.SOLL if i % 2 else Kind.IST,
                text=text,
                author_id=10**10 + i,
                author_name=["Anna", "<Ben>", "Çağla ß", "**Dee**"][i % 4],
                created_at=START + timedelta(minutes=i),
                edited_at=START + timedelta(hours=1) if i == 2 else None,
            )
            for i, text in enumerate(texts)
        ),
    )


def _round_trip_markdown(view: BoardView) -> None:
    model, messages = CATALOGUE[view.language], TEXTS[view.language]
    parsed = parse_markdown(board_markdown(model, messages, view, START), model, messages)
    # as every output shows a person's text: line breaks unified, open bidi controls closed
    expected = sorted(
        (e.point, e.kind.value, safe_line(e.author_name), safe_text(e.text)) for e in view.entries
    )
    assert sorted((p.point, p.kind, p.author, p.text) for p in parsed) == expected


def _round_trip_json(view: BoardView) -> dict[str, object]:
    document = json.loads(board_json(CATALOGUE[view.language], view, START))
    jsonschema.validate(document, SCHEMA)
    found = sorted(
        (point["number"], kind, entry["author"]["name"], entry["text"], entry["author"]["id"])
        for point in document["points"]
        for kind in ("ist", "soll")
        for entry in point[kind]
    )
    assert found == sorted(
        (e.point, e.kind.value, safe_line(e.author_name), safe_text(e.text), e.author_id)
        for e in view.entries
    )
    return document


def test_markdown_round_trips_tricky_entries() -> None:
    for language in ("de", "en"):
        _round_trip_markdown(_view(TRICKY, language))


def test_json_round_trips_and_validates() -> None:
    document = _round_trip_json(_view(TRICKY))
    assert document["format"] == "sechs-cluster-board"
    assert document["version"] == 1
    board = document["board"]
    assert isinstance(board, dict)
    assert board["title"] == "Fahrrad <Test> & Co"
    assert board["entry_count"] == len(TRICKY)


def test_demo_board_files_validate() -> None:
    view = demo_board(CATALOGUE["de"], "Demo", "de")
    assert view.is_complete
    document = _round_trip_json(view)
    board = document["board"]
    assert isinstance(board, dict)
    assert board["complete"] is True
    _round_trip_markdown(view)


entry_text = st.text(
    alphabet=st.characters(codec="utf-8"),
    min_size=1,
    max_size=300,
).filter(lambda s: s.strip() == s and s != "")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(entry_text, min_size=1, max_size=8))
def test_any_text_round_trips(texts: list[str]) -> None:
    view = _view(texts)
    _round_trip_markdown(view)
    _round_trip_json(view)


def test_file_names_are_safe() -> None:
    when = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert file_stem("Citybike 2027", when) == "citybike-2027_2026-11-25"
    assert file_stem("Größe / Maße: ÄÖÜ", when) == "grosse-masse-aou_2026-11-25"
    assert file_stem("../../etc/passwd", when) == "etc-passwd_2026-11-25"
    assert file_stem("🚲🚲", when) == "board_2026-11-25"
    assert len(file_stem("x" * 500, when)) <= 71


def test_review_lists_exactly_the_missing_points_and_steps() -> None:
    model, messages = CATALOGUE["de"], TEXTS["de"]
    filled = [p for p in range(1, 21) if p not in (3, 17, 19)]
    entries = [(p, Kind.IST) for p in filled] + [(p, Kind.SOLL) for p in range(1, 21) if p != 5]
    view = BoardView(
        id=1,
        title="Review",
        language="de",
        status=BoardStatus.OPEN,
        created_at=START,
        entries=tuple(
            EntryView(
                id=i, point=p, kind=k, text="x", author_id=1, author_name="A", created_at=START
            )
            for i, (p, k) in enumerate(entries)
        ),
    )
    shown = "\n".join(check_html(m) for m in render.review(model, messages, view))
    blocking = shown.split("Noch ohne Ist-Eintrag")[1].split("Noch ohne Soll-Eintrag")[0]
    assert [line for line in blocking.splitlines() if line.startswith("❌")] == [
        "❌ 3. Sticky Information",
        "❌ 17. Qualität und Zuverlässigkeit",
        "❌ 19. Individualisierung",
    ]
    warnings = shown.split("Noch ohne Soll-Eintrag")[1].split("Handlungsschritte")[0]
    assert [line for line in warnings.splitlines() if line.startswith("⚠️")] == [
        "⚠️ 5. Marke/Produkt/Dienstleistung"
    ]
    steps = shown.split("Handlungsschritte")[1]
    uncovered = [line.split(".")[0] for line in steps.splitlines() if line.startswith("❌")]
    assert uncovered == ["❌ 1", "❌ 2", "❌ 6"]  # 19 carries step 1, 3 step 2, 17 step 6
    assert "fehlt: 19" in steps
    assert "/point n" in shown


def _markdown(texts: list[str], language: str = "de") -> str:
    model, messages = CATALOGUE[language], TEXTS[language]
    return board_markdown(model, messages, _view(texts, language), START)


def test_markdown_reads_as_prose() -> None:
    view = demo_board(CATALOGUE["de"], "Citybike 2027: Räder, Größen & Co.", "de")
    markdown = board_markdown(CATALOGUE["de"], TEXTS["de"], view, START)
    assert markdown.startswith("# Sechs-Cluster-Modell: Citybike 2027: Räder, Größen & Co.\n")
    assert "### 5. Marke/Produkt/Dienstleistung" in markdown
    assert "(Markt: fünf bis 15 Jahre)" in markdown
    assert "\\-" not in markdown
    assert "\\:" not in markdown
    assert "\\." not in markdown


def test_markdown_escapes_only_what_would_change_meaning() -> None:
    cases = {
        "# keine Überschrift": "\\# keine Überschrift",
        "> kein Zitat": "\\> kein Zitat",
        "- kein Punkt": "\\- kein Punkt",
        "1. keine Liste": "1\\. keine Liste",
        "**nicht fett** und _nicht kursiv_": "\\*\\*nicht fett\\*\\* und \\_nicht kursiv\\_",
        "snake_case bleibt": "snake_case bleibt",
        "[kein](link)": "\\[kein](link)",
        "<b>kein Tag</b>": "\\<b>kein Tag\\</b>",
        "`kein Code`": "\\`kein Code\\`",
        "&amp; bleibt so": "\\&amp; bleibt so",
        "Preis: 5 € - 10 €, Satzzeichen bleiben.": "Preis: 5 € - 10 €, Satzzeichen bleiben.",
    }
    markdown = _markdown(list(cases))
    for text, escaped in cases.items():
        assert f"  > {escaped}" in markdown.split("\n"), text


def test_other_line_breaks_stay_inside_the_quote() -> None:
    texts = ["eins\rzwei", "drei\r\nvier", "fünf\u2028sechs", "sieben\u2029acht\x85neun"]
    markdown = _markdown(texts)
    for forbidden in ("\r", "\u2028", "\u2029", "\x85"):
        assert forbidden not in markdown
    # each separator a line break of the quote, none a stray reference
    quoted = [line for line in markdown.split("\n") if line.startswith("  > ")]
    for word in ("eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"):
        assert f"  > {word}" in quoted
    assert "&#" not in markdown
    _round_trip_markdown(_view(texts))


def test_dates_are_in_the_reader_s_form() -> None:
    when = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    view = demo_board(CATALOGUE["de"], "Demo", "de")
    assert "Stand 26.11.2026, 09:00 Uhr" in board_markdown(CATALOGUE["de"], TEXTS["de"], view, when)
    view = demo_board(CATALOGUE["en"], "Demo", "en")
    english = board_markdown(CATALOGUE["en"], TEXTS["en"], view, when)
    assert "26 November 2026, 09:00" in english
    assert "12 January 2026, 09:00" in english


def test_the_plan_is_in_json_and_markdown() -> None:
    plan = [
        PlanRow(1, 5, "3D-gedruckte Reifen", "Anna", date(2026, 12, 1), "offen", 4),
        PlanRow(2, 17, "- Design überarbeiten", None, None, "läuft", None),
    ]
    view = demo_board(CATALOGUE["de"], "Demo", "de")
    document = json.loads(board_json(CATALOGUE["de"], view, START, plan))
    jsonschema.validate(document, SCHEMA)
    assert document["plan"][0] == {
        "number": 1,
        "point": 5,
        "text": "3D-gedruckte Reifen",
        "owner": "Anna",
        "due": "2026-12-01",
        "status": "open",  # a stable code, as in docs/plan.schema.json
        "status_label": "offen",
        "step": 4,
        "votes": None,  # the board never voted
    }
    assert "plan" not in json.loads(board_json(CATALOGUE["de"], view, START))
    # a board without measures yet says so in its export, rather than leaving the plan out
    assert json.loads(board_json(CATALOGUE["de"], view, START, []))["plan"] == []
    assert "Noch keine Maßnahmen" in board_markdown(CATALOGUE["de"], TEXTS["de"], view, START, [])
    markdown = board_markdown(CATALOGUE["de"], TEXTS["de"], view, START, plan)
    assert "## Maßnahmenplan" in markdown
    assert "Fällig: 01.12.2026" in markdown
    assert "  > \\- Design überarbeiten" in markdown.split("\n")
    _round_trip_markdown(view)


line_breaking = st.text(
    alphabet=st.sampled_from("ab #>-1.*_`[]()<&\\\r\n\u2028\u2029\x85\t "), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s != "")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(line_breaking, min_size=1, max_size=6))
def test_markup_and_line_breaks_round_trip(texts: list[str]) -> None:
    view = _view(texts)
    _round_trip_markdown(view)
    markdown = board_markdown(CATALOGUE["de"], TEXTS["de"], view, START)
    assert not any(ch in markdown for ch in "\r\u2028\u2029\x85")
