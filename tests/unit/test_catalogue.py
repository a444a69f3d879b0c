"""The model's content in prompts/ against the source document and SPEC §2."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.model.catalogue import PROMPTS_DIR, CatalogueError, load_catalogue
from bot.texts import load_texts

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "sechs-cluster-modell.txt"

TITLES = {
    1: "Kundenbedürfnisse",
    2: "Kundenkommunikation",
    3: "Sticky Information",
    4: "Learning Relationship Information",
    5: "Marke/Produkt/Dienstleistung",
    6: "Konfiguration",
    7: "Komplexität",
    8: "Neue Technologien",
    9: "Automatisierung/CNC",
    10: "Kooperationen im Value Chain",
    11: "Beratungsfunktion",
    12: "Verwaltung von Daten",
    13: "Datenerfassung",
    14: "Grundinformationen",
    15: "Know-How",
    16: "Interne Kommunikation",
    17: "Qualität und Zuverlässigkeit",
    18: "Datenaustausch",
    19: "Individualisierung",
    20: "Kommunikation zu Partnern",
}
AREAS = {
    "Kunde": [1, 2, 3, 4],
    "Differenzierung": [5],
    "Produkt": [6, 7, 8, 9, 10, 11],
    "Daten": [12, 13, 14],
    "Mitarbeiter": [15, 16],
    "Value Chain": [17, 18, 19, 20],
}


def _fold(text: str) -> str:
    """Compare across PDF line breaks and hyphenation: letters and digits only."""
    return re.sub(r"[^0-9a-zäöüß]", "", text.casefold())


needs_seed = pytest.mark.skipif(
    not SEED.exists(), reason=f"source document not beside the clone ({SEED}); comparison skipped"
)


def source_questions() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    # a quotation runs to its closing mark; one in the source lacks it and ends at the next „
    found = re.findall(r"„([^„“]+)(?:“|(?=„))", text)
    return [re.sub(r"-\s*\n\s*", "", q).strip() for q in found if "?" in q]


def test_areas_and_points_match_the_model() -> None:
    model = load_catalogue().reference
    assert [a.name for a in model.areas] == list(AREAS)
    assert {a.name: list(a.points) for a in model.areas} == AREAS
    assert [p.number for p in model.points] == list(range(1, 21))
    assert {p.number: p.title for p in model.points} == TITLES


@needs_seed
def test_every_guiding_question_of_the_source_is_in_german() -> None:
    questions = source_questions()
    assert len(questions) == 37
    catalogue = {_fold(q) for p in load_catalogue().reference.points for q in p.questions}
    missing = [q for q in questions if _fold(q) not in catalogue]
    assert missing == []


def test_english_is_a_full_translation() -> None:
    catalogue = load_catalogue()
    de, en = catalogue["de"], catalogue["en"]
    assert [p.key for p in de.points] == [p.key for p in en.points]
    for german, english in zip(de.points, en.points, strict=True):
        assert len(german.questions) == len(english.questions)
        assert german.title != english.title or german.title in ("Sticky Information",)
        assert english.explanation
        assert english.example
    assert [s.points for s in de.action_steps] == [s.points for s in en.action_steps]
    assert [s.source_points for s in de.action_steps] == [s.source_points for s in en.action_steps]
    assert len(de.action_steps) == 7


def test_every_point_has_an_example_with_a_current_situation() -> None:
    for language in ("de", "en"):
        for point in load_catalogue()[language].points:
            assert point.example[0].kind == "ist", (language, point.number)
            assert point.example[0].text, (language, point.number)


def test_an_example_part_from_the_source_without_quotes_is_refused(tmp_path: Path) -> None:
    prompts = _broken_copy(tmp_path)
    path = prompts / "de" / "model.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"quotes = \[[^\]]*\]\n", "", text, count=1), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"de/model\.toml: key points\[0\]\.example"):
        load_catalogue(prompts)


def test_a_step_link_to_a_point_outside_the_step_is_refused(tmp_path: Path) -> None:
    prompts = _broken_copy(tmp_path)
    path = prompts / "en" / "model.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("source_points = [17]", "source_points = [18]"), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"en/model\.toml: key action_steps\[5\]"):
        load_catalogue(prompts)


def _broken_copy(tmp_path: Path) -> Path:
    target = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, target)
    return target


def test_a_gap_in_the_points_names_file_and_key(tmp_path: Path) -> None:
    prompts = _broken_copy(tmp_path)
    path = prompts / "en" / "model.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("number = 7\n", "number = 70\n", 1),
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match=r"en/model\.toml: key points"):
        load_catalogue(prompts)


def test_a_missing_field_names_file_and_key(tmp_path: Path) -> None:
    prompts = _broken_copy(tmp_path)
    path = prompts / "de" / "model.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r'\nexplanation = "Wo unterscheiden[^\n]*', "", text, count=1), encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"de/model\.toml: key points\.0\.explanation"):
        load_catalogue(prompts)


def test_languages_with_different_keys_are_refused(tmp_path: Path) -> None:
    prompts = _broken_copy(tmp_path)
    path = prompts / "en" / "model.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('key = "complexity"', 'key = "complex"'),
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match=r"en/model\.toml"):
        load_catalogue(prompts)


def test_messages_have_the_same_keys_and_placeholders(tmp_path: Path) -> None:
    texts = load_texts()
    assert texts["de"].templates.keys() == texts["en"].templates.keys()
    prompts = _broken_copy(tmp_path)
    path = prompts / "en" / "messages.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("{limit}", "{limt}"), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"en/messages\.toml: key newboard_title_too_long"):
        load_texts(prompts)


def test_every_key_the_code_asks_for_exists() -> None:
    keys = load_texts()["de"].templates.keys()
    used: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'messages(?:\.plain)?\(\s*"([a-z_]+[a-z])"', source))
        used |= set(re.findall(r'messages_for\([^)]*\)\("([a-z_]+[a-z])"\)', source))
        used |= set(re.findall(r'(?:usage|unknown)="([a-z_]+[a-z])"', source))
    assert used, "no message keys found in the code"
    assert used - keys == set()


def test_plain_text_keeps_the_values_as_written() -> None:
    """Alerts and button labels are no HTML: a title with "&amp;" or "<…>" is shown as typed."""
    messages = load_texts()["de"]
    title = "Plan <2025> R&amp;D"
    assert title in messages.plain_format("button_board_closed", title=title)
    assert "<code>" not in messages.plain_format("remind_off")  # the template's markup goes
