"""The plan as Telegram pages, Markdown and JSON (SPEC §10, §5)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import jsonschema

from bot.model.catalogue import load_catalogue
from bot.model.plan import MeasureView, Owner, Status, counts
from bot.model.plan_rows import PlanRow
from bot.render.plan import (
    PAGE_SIZE,
    Grouping,
    digest_lines,
    followup_text,
    plan_json,
    plan_pages,
    status_lines,
)
from bot.render.split import MESSAGE_LIMIT, telegram_length
from bot.texts import load_texts
from tests.support.scenario import plain

CATALOGUE = load_catalogue()
TEXTS = load_texts()
MODEL = CATALOGUE["de"]
DE = TEXTS["de"]
EN = TEXTS["en"]
TODAY = date(2026, 11, 26)
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "plan.schema.json").read_text())


def _measures(count: int, text: str = "Konfigurator <einführen> & testen") -> list[MeasureView]:
    return [
        MeasureView(
            number=n,
            point=(n - 1) % 20 + 1,
            text=f"{text} {n}",
            step=(n % 7) + 1 if n % 5 else None,
            owner=Owner(name="Anna") if n % 2 else None,
            due=TODAY + timedelta(days=n - 3) if n % 3 else None,
            status=Status.DONE if n % 4 == 0 else Status.OPEN,
        )
        for n in range(1, count + 1)
    ]


def test_small_plan_is_one_page_with_summary_and_marks() -> None:
    measures = _measures(5)
    pages = plan_pages(MODEL, DE, "Citybike <2027>", measures, TODAY)
    assert len(pages) == 1
    text = plain(pages[0].text)
    assert "Maßnahmenplan: Citybike <2027>" in text
    tally = counts(measures, TODAY)
    assert (
        f"{tally.total} Maßnahmen · {tally.without_owner} ohne Verantwortliche · "
        f"{tally.overdue} überfällig · {tally.done} erledigt"
    ) in text
    assert "Konfigurator <einführen> & testen 1" in text  # escaped in HTML, whole when read
    assert "&lt;einführen&gt; &amp;" in pages[0].text
    assert "überfällig" in text.split("\n", 2)[2]  # No. 1 and 2 are past due
    assert "Seite" not in text
    assert sorted(pages[0].numbers) == [1, 2, 3, 4, 5]


def test_grouped_by_step_has_a_group_for_measures_without_step() -> None:
    pages = plan_pages(MODEL, EN, "Citybike", _measures(10), TODAY, Grouping.STEP)
    text = "\n".join(plain(p.text) for p in pages)
    assert "Action plan by action step" in text
    assert "No action step" in text
    assert "Step 1: " in text


def test_long_plans_are_paged_within_the_limit() -> None:
    measures = _measures(60, "x" * 3000)
    pages = plan_pages(MODEL, DE, "T" * 500, measures, TODAY)
    assert len(pages) > 60 // PAGE_SIZE
    seen: list[int] = []
    for page in pages:
        assert telegram_length(page.text) <= MESSAGE_LIMIT
        assert len(page.numbers) <= PAGE_SIZE
        assert f"Seite {page.index + 1} von {len(pages)}" in page.text
        assert not page.text.rstrip().endswith("</u></b>")  # never ends on a heading
        seen += page.numbers
    assert sorted(seen) == list(range(1, 61))
    assert "…" in pages[0].text  # a cut is visible


def test_an_empty_plan_says_how_measures_come_about() -> None:
    pages = plan_pages(MODEL, DE, "Leer", [], TODAY)
    assert len(pages) == 1
    assert "/soll" in pages[0].text
    assert pages[0].numbers == ()


def test_followup_digest_and_status_lines() -> None:
    measures = _measures(3)
    note = plain(followup_text(MODEL, DE, measures[:2], TODAY + timedelta(days=1)))
    assert "Morgen fällig" in note
    assert "27.11.2026" in note
    assert "Nr. 1" in note
    assert "Nr. 2" in note
    lines = [plain(line) for line in digest_lines(MODEL, EN, measures[2:], measures[:1])]
    assert lines[0].startswith("Measures due in the next 7 days (1)")
    assert any(line.startswith("Overdue measures (1)") for line in lines)
    assert status_lines(DE, counts([], TODAY)) == []
    assert "3 Maßnahmen" in plain(status_lines(DE, counts(measures, TODAY))[0])


def _rows() -> list[PlanRow]:
    return [
        PlanRow(
            1,
            6,
            "Konfigurator | mit\nzwei Zeilen *fett*",
            "Anna (@anna_m)",
            date(2026, 12, 1),
            "offen",
            5,
        ),
        PlanRow(3, 12, "Daten zentral", None, None, "erledigt", None),
    ]


def test_json_validates_against_the_schema() -> None:
    listed = plan_json(_rows())
    jsonschema.validate(listed, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert listed[0]["status"] == "open"
    assert listed[0]["status_label"] == "offen"
    assert listed[0]["due"] == "2026-12-01"
    assert listed[1]["owner"] is None
    assert listed[1]["status"] == "done"
    english = PlanRow(2, 1, "x", None, None, "doing", 2)
    jsonschema.validate(plan_json([english]), SCHEMA)
