"""Property-based checks of parsing and rendering: any text, never a crash or a refused message."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.model.arguments import (
    parse_area,
    parse_point,
    parse_time_of_day,
    parse_timezone,
    parse_weekday,
)
from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.catalogue import load_catalogue
from bot.model.entry_text import (
    Kind,
    PointOutOfRange,
    clean_title,
    parse_command_entry,
    parse_entry,
)
from bot.playground.emulator.telegram_html import check_html, utf16_length
from bot.render import html as render
from bot.render.image import draw_board
from bot.texts import escape, load_texts
from bot.unitext import safe_text
from tests.support.hostile_texts import HOSTILE_TEXTS

CATALOGUE = load_catalogue()
TEXTS = load_texts()
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PROFILE = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

SPECIAL = HOSTILE_TEXTS
texts = st.one_of(
    st.sampled_from(SPECIAL), st.text(alphabet=st.characters(codec="utf-8"), max_size=600)
)


@PROFILE
@given(texts)
def test_entry_text_keeps_what_was_written(raw: str) -> None:
    parsed = parse_entry(raw)
    cleaned = raw.replace("\x00", "")
    assert parsed.text in cleaned
    assert parsed.text == parsed.text.strip()
    assert len(parsed.text) <= len(cleaned)
    if not cleaned.lstrip().lower().startswith(("soll", "ziel", "target", "ist", "current")):
        visible = any(unicodedata.category(ch)[0] not in "ZC" for ch in cleaned)
        # kept exactly, or empty when a reader would see nothing of it
        assert parsed.text == (cleaned.strip() if visible else "")
        assert parsed.kind == Kind.IST


@PROFILE
@given(texts)
def test_command_arguments_never_crash(raw: str) -> None:
    given_number: str | None
    try:
        parsed = parse_command_entry(raw)
    except PointOutOfRange as refused:
        given_number = refused.given
    else:
        given_number = None
    if given_number is not None:
        assert given_number.lstrip("+-").rstrip(".:)").isdigit()
        return
    assert parsed.point is None or 1 <= parsed.point <= 20
    parse_area(raw, CATALOGUE)
    parse_point(raw)
    parse_weekday(raw)
    parse_time_of_day(raw)
    parse_timezone(raw)
    title = clean_title(raw, 120)
    assert title is None or (0 < len(title) <= 120 and "\n" not in title)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(1, 20), st.booleans(), texts), max_size=25),
    texts.map(lambda t: t[:120]),
)
def test_any_board_renders_to_messages_telegram_accepts(
    entries: list[tuple[int, bool, str]], title: str
) -> None:
    view = BoardView(
        id=1,
        title=title or "t",
        language="de",
        status=BoardStatus.OPEN,
        created_at=START,
        entries=tuple(
            EntryView(
                id=i,
                point=p,
                kind=Kind.SOLL if soll else Kind.IST,
                text=text or "x",
                author_id=i,
                author_name=text[:20] or "A",
                created_at=START + timedelta(seconds=i),
            )
            for i, (p, soll, text) in enumerate(entries)
        ),
    )
    model, messages = CATALOGUE["de"], TEXTS["de"]
    rendered = [*render.board_text(model, messages, view), *render.review(model, messages, view)]
    rendered.append(render.status(model, messages, view, 1, messages("status_reminder_off")))
    for message in rendered:
        assert utf16_length(message) <= 4096
        shown = check_html(message)
        assert shown.strip()
    joined = "\n".join(check_html(m) for m in render.board_text(model, messages, view))
    for _, _, text in entries:
        if text and len(text) < 1000:
            assert text.strip() in joined or text in joined
    draw_board(model, messages, view)


@PROFILE
@given(texts)
def test_escaped_text_is_always_valid_html(raw: str) -> None:
    assert check_html(escape(raw)) == safe_text(raw)


HOSTILE_NAMES = [
    "&" * 64,
    "<" * 64,
    "&<>" * 30,
    "A",
    "😀" * 64,
    "שלום",
    "مرحبا \u202e",
    "\u200b",
]
names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=200),
)
long_texts = st.one_of(
    st.sampled_from(["&" * 3800, "<&>" * 1266, "ü" * 3800, "😀" * 1900, "x " * 1900]),
    st.text(alphabet=st.sampled_from("a &<>😀ü\n"), min_size=1, max_size=3800),
    texts.filter(bool),
)


def _headings(model_points: dict[int, str]) -> set[str]:
    labels = {TEXTS["de"].plain("kind_ist"), TEXTS["de"].plain("kind_soll")}
    return labels | set(model_points.values())


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(1, 20), st.booleans(), long_texts, names), max_size=12),
    st.one_of(st.sampled_from(HOSTILE_NAMES), texts.map(lambda t: t[:120])),
)
def test_board_text_split_is_safe_for_any_name_and_length(
    entries: list[tuple[int, bool, str, str]], title: str
) -> None:
    view = BoardView(
        id=1,
        title=title or "t",
        language="de",
        status=BoardStatus.CLOSED,
        created_at=START,
        entries=tuple(
            EntryView(
                id=i,
                point=p,
                kind=Kind.SOLL if soll else Kind.IST,
                text=text,
                author_id=i,
                author_name=name,
                created_at=START + timedelta(seconds=i),
            )
            for i, (p, soll, text, name) in enumerate(entries)
        ),
    )
    model, messages = CATALOGUE["de"], TEXTS["de"]
    headings = _headings({p.number: p.heading for p in model.points})
    rendered = render.board_text(model, messages, view)
    for index, message in enumerate(rendered):
        assert utf16_length(message) <= 4096
        shown = check_html(message)
        last = shown.rstrip("\n").rsplit("\n", 1)[-1]
        if index < len(rendered) - 1:
            assert last not in headings, last
            assert "━━" not in last
            assert not last.startswith("📋")
    assert len(rendered) >= 1
    review = render.review(model, messages, view)
    for message in review:
        assert utf16_length(message) <= 4096
        check_html(message)
