"""Any Unicode text in every output (issue 25): line and paragraph separators are line breaks,
bidi controls a person opens are closed, and one renderer failing leaves the others' files."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.catalogue import load_catalogue
from bot.model.entry_text import Kind
from bot.model.plan_rows import PlanRow
from bot.offline import write_board_files
from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.telegram_html import check_html
from bot.render import export as export_module
from bot.render import html as render
from bot.render.export import build_export
from bot.render.files import board_json, board_markdown
from bot.render.image import render_png
from bot.render.report import render_pdf
from bot.texts import escape, load_texts
from bot.unitext import close_bidi, safe_line, safe_text, unify_breaks
from tests.support.inprocess import inprocess_bot

CATALOGUE = load_catalogue()
TEXTS = load_texts()
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEPARATORS = "\u2028\u2029\x85\r"
RAW_BREAKS = "\u2028\u2029\x85\r"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _view(texts: list[str], *, title: str = "Board", name: str = "Anna") -> BoardView:
    return BoardView(
        id=7,
        title=title,
        language="de",
        status=BoardStatus.OPEN,
        created_at=START,
        entries=tuple(
            EntryView(
                id=i,
                point=1 + i % 20,
                kind=Kind.SOLL if i % 2 else Kind.IST,
                text=text,
                author_id=10**10 + i,
                author_name=name,
                created_at=START + timedelta(minutes=i),
            )
            for i, text in enumerate(texts)
        ),
    )


def _balanced(line: str) -> bool:
    """Whether every bidi embedding, override and isolate opened in `line` is closed in it."""
    depth = 0
    for char in line:
        if char in "\u202a\u202b\u202d\u202e\u2066\u2067\u2068":
            depth += 1
        elif char in "\u202c\u2069":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def test_close_bidi_closes_what_a_line_opens_and_drops_stray_closers() -> None:
    assert close_bidi("\u202eevil") == "\u202eevil\u202c"
    assert close_bidi("\u2067a\u202bb") == "\u2067a\u202bb\u202c\u2069"
    assert close_bidi("a\u202cb\u2069c") == "abc"
    assert close_bidi("\u2066x\u202dy\u2069z") == "\u2066x\u202dy\u202c\u2069z"
    assert close_bidi("\u202eone\ntwo") == "\u202eone\u202c\ntwo"
    assert close_bidi("plain") == "plain"
    assert unify_breaks("a\u2029b\u2028c\x85d\r\ne\rf") == "a\nb\nc\nd\ne\nf"
    assert safe_line("Dave\u2029Miller\u202e") == "Dave Miller\u202e\u202c"


def test_a_paragraph_separator_no_longer_breaks_the_image() -> None:
    # Pillow's text layout raised "raqm_layout() failed." on U+2029 in any entry
    view = _view(["erste Zeile\u2029zweite Zeile", "Absatz\u2028Zeile\x85Ende"])
    assert render_png(CATALOGUE["de"], TEXTS["de"], view).startswith(b"\x89PNG")
    made = build_export(CATALOGUE["de"], TEXTS["de"], view, now=START)
    assert made.missing == []
    assert [f.name.rsplit(".", 1)[1] for f in made.files] == ["md", "json", "pdf", "png"]


def test_a_failing_image_leaves_the_other_files_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("raqm_layout() failed.")

    monkeypatch.setattr(export_module, "render_png", broken)
    monkeypatch.setattr("bot.render.report.render_png", broken)
    view = _view(["ein Eintrag"])
    made = build_export(CATALOGUE["de"], TEXTS["de"], view, now=START)
    assert [f.name.rsplit(".", 1)[1] for f in made.files] == ["md", "json", "pdf"]
    assert made.missing == ["file_image"]
    note = made.missing_note(TEXTS["de"])
    assert note is not None
    assert "Bild in voller Größe" in note
    assert made.missing_note(TEXTS["en"]) is not None


any_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.text(alphabet=st.sampled_from("ab <&>*_\n" + SEPARATORS + BIDI), max_size=60),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(any_text, min_size=1, max_size=4), any_text, any_text)
def test_every_output_takes_any_text(texts: list[str], title: str, name: str) -> None:
    """Image, PDF, Markdown, JSON and Telegram HTML: no failure, no separator other than "\\n",
    no bidi control left open on any line."""
    model, messages = CATALOGUE["de"], TEXTS["de"]
    texts = [text or "x" for text in texts]
    view = _view(texts, title=title or "t", name=name or "A")
    plan = [PlanRow(1, 1, texts[0], name or None, None, "offen", None)]

    render_png(model, messages, view)
    assert render_pdf(model, messages, view, now=START, plan=plan).startswith(b"%PDF")

    markdown = board_markdown(model, messages, view, START, plan)
    assert not any(ch in markdown for ch in RAW_BREAKS)
    assert all(_balanced(line) for line in markdown.split("\n"))

    document = json.loads(board_json(model, view, START, plan))
    shown = [document["board"]["title"], document["plan"][0]["text"]]
    for point in document["points"]:
        for entry in point["ist"] + point["soll"]:
            shown += [entry["text"], entry["author"]["name"]]
    for value in shown:
        assert not any(ch in value for ch in RAW_BREAKS)
        assert all(_balanced(line) for line in value.split("\n"))

    for message in render.board_text(model, messages, view):
        visible = check_html(message)
        assert not any(ch in visible for ch in RAW_BREAKS)
        assert all(_balanced(line) for line in visible.split("\n"))
    for text in [*texts, title, name]:
        assert check_html(escape(text)) == safe_text(text)


def test_bidi_overrides_in_names_and_titles_are_closed_in_every_output() -> None:
    model, messages = CATALOGUE["de"], TEXTS["de"]
    view = _view(["Eintrag \u2067offen"], title="Titel \u202e rückwärts", name="\u202eevaD")
    markdown = board_markdown(model, messages, view, START)
    assert "\u202eevaD\u202c" in markdown
    assert "Titel \u202e rückwärts\u202c" in markdown
    document = json.loads(board_json(model, view, START))
    assert document["board"]["title"] == "Titel \u202e rückwärts\u202c"
    first = document["points"][0]["ist"][0]
    assert first["author"]["name"] == "\u202eevaD\u202c"
    assert first["text"] == "Eintrag \u2067offen\u2069"
    joined = "\n".join(check_html(m) for m in render.board_text(model, messages, view))
    assert all(_balanced(line) for line in joined.split("\n"))
    assert "\u2067offen\u2069" in joined
    # an alert (plain text) closes them too
    alert = messages.plain_format("button_board_closed", title="\u202eTitel")
    assert "\u202eTitel\u202c" in alert


def test_offline_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "files"
    written = write_board_files(_view(["a\u2029b"]), out)
    assert len(written) == 5
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        os.chmod(path, 0o644)  # written before, by a version that did not care
    for path in write_board_files(_view(["a\u2029b"]), out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_a_failing_image_takes_neither_the_board_text_nor_the_files_with_it(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the update path: `/board` posts its text and says the image is missing;
    `/export` sends Markdown, JSON and the PDF and says which file is missing."""

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("raqm_layout() failed.")

    for module in ("bot.handlers.outputs", "bot.render.export", "bot.render.report"):
        monkeypatch.setattr(f"{module}.render_png", broken)
    world = emulator.world
    anna = world.person(2581, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Citybike")
        world.send(group, anna, "/ist 1 Telefon")
        await bot.deliver()
        before = len(world.bot_messages(group))
        world.send(group, anna, "/board")
        await bot.deliver()
        posted = world.bot_messages(group)[before:]
        assert any("Telefon" in (m.text or "") for m in posted)
        assert "Bild des Boards ließ sich diesmal nicht zeichnen" in (posted[-1].text or "")
        before = len(world.bot_messages(group))
        world.send(group, anna, "/export")
        await bot.deliver()
        posted = world.bot_messages(group)[before:]
        names = sorted((m.file_name or "").rsplit(".", 1)[1] for m in posted if m.file_name)
        assert names == ["json", "md", "pdf"]
        assert "es fehlt: Bild in voller Größe" in (posted[-1].text or "")
        assert world.refusals() == []
