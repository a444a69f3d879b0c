"""Board text: escaping, the 4096 limit, splitting at area/point boundaries."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.catalogue import load_catalogue
from bot.model.entry_text import Kind
from bot.playground.emulator.telegram_html import check_html, utf16_length
from bot.render import html as render
from bot.render.split import MESSAGE_LIMIT, split_plain, telegram_length
from bot.texts import escape, load_texts

MODEL = load_catalogue()["de"]
MESSAGES = load_texts()["de"]
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _view(entries: list[tuple[int, Kind, str]], title: str = "Board") -> BoardView:
    return BoardView(
        id=1,
        title=title,
        language="de",
        status=BoardStatus.OPEN,
        created_at=START,
        entries=tuple(
            EntryView(
                id=i,
                point=p,
                kind=k,
                text=t,
                author_id=i % 3,
                author_name=f"<Autor{i % 3}>",
                created_at=START + timedelta(minutes=i),
            )
            for i, (p, k, t) in enumerate(entries, start=1)
        ),
    )


def _shown(messages: Sequence[str]) -> str:
    return "\n".join(check_html(m) for m in messages)


def test_user_text_is_escaped_and_valid_for_telegram() -> None:
    hostile = '<b>fett</b> & <script>alert("x")</script> &amp; </i>'
    messages = render.board_text(
        MODEL, MESSAGES, _view([(1, Kind.IST, hostile), (1, Kind.SOLL, "ok")], title="<Titel & Co>")
    )
    shown = _shown(messages)
    assert hostile in shown
    assert "<Titel & Co>" in shown
    assert "<Autor1>" in shown


def test_empty_board_marks_every_point() -> None:
    messages = render.board_text(MODEL, MESSAGES, _view([]))
    assert len(messages) == 1
    assert _shown(messages).count("⚠️ ohne Ist") == 20


def test_sections_in_model_order() -> None:
    shown = _shown(
        render.board_text(MODEL, MESSAGES, _view([(p, Kind.IST, f"P{p}") for p in range(1, 21)]))
    )
    positions = [shown.index(f"{p.number}. {p.title}") for p in MODEL.points]
    assert positions == sorted(positions)
    assert "⚠️ ohne Ist" not in shown


def test_split_into_as_few_messages_as_possible_at_point_boundaries() -> None:
    entries = [
        (p, Kind.IST, f"Eintrag {p}-{i} " + "x" * 300) for p in range(1, 21) for i in range(3)
    ]
    messages = render.board_text(MODEL, MESSAGES, _view(entries))
    total = sum(telegram_length(m) for m in messages) + len(messages) - 1
    assert (
        len(messages) == -(-total // MESSAGE_LIMIT) or len(messages) <= total // MESSAGE_LIMIT + 2
    )
    for message in messages:
        assert utf16_length(message) <= MESSAGE_LIMIT
        check_html(message)
        # every message starts at a boundary: the title, an area header or a point heading
        assert re.match(r"^(📋|\n<b>━━|<b>\d+\. )", message), message[:40]
    shown = _shown(messages)
    for _p, _, text in entries:
        assert text in shown


def test_a_single_huge_entry_is_split_safely() -> None:
    huge = ("Ä&<>\"' 😀 " * 1200).strip()  # far beyond 4096, with entities and surrogate pairs
    messages = render.board_text(MODEL, MESSAGES, _view([(5, Kind.IST, huge)]))
    assert len(messages) >= 3
    for message in messages:
        assert utf16_length(message) <= MESSAGE_LIMIT
        check_html(message)
    joined = "".join(html.unescape(re.sub(r"<[^>]+>", "", m)) for m in messages)
    assert joined.count("😀") == 1200


def test_split_plain_keeps_every_character() -> None:
    text = "a&b<c>d " * 2000
    pieces = split_plain(text, 1000)
    assert "".join(pieces) == text
    assert all(telegram_length(escape(p)) <= 1000 for p in pieces)


def test_card_names_point_area_questions_and_how_to_answer() -> None:
    card = render.card(MODEL, MESSAGES, 1)
    shown = check_html(card)
    assert shown.startswith("1. Kundenbedürfnisse · Bereich 1: Kunde\n")
    for question in MODEL.point(1).questions:
        assert question in shown
    assert "Soll:" in shown


def test_status_lists_empty_points_and_counts() -> None:
    view = _view([(1, Kind.IST, "a"), (2, Kind.SOLL, "b"), (1, Kind.IST, "c")])
    status = check_html(render.status(MODEL, MESSAGES, view, 2, MESSAGES("status_reminder_off")))
    assert "1 von 20 Punkten" in status
    assert "2. Kundenkommunikation" in status.split("Noch ohne Ist:")[1]
    assert "Einträge: 3 · Beteiligte: 3" in status
    assert "Kunde: 1/4" in status


def test_a_name_of_ampersands_with_a_long_entry_fits() -> None:
    # the name's escaped form (5 units per "&") used to be added after the text was cut
    for length in (3790, 3800):
        view = BoardView(
            id=1,
            title="&" * 120,
            language="de",
            status=BoardStatus.OPEN,
            created_at=START,
            entries=(
                EntryView(
                    id=1,
                    point=15,
                    kind=Kind.IST,
                    text="a" * length,
                    author_id=1,
                    author_name="&" * 64,
                    created_at=START,
                ),
            ),
        )
        messages = render.board_text(MODEL, MESSAGES, view)
        for message in messages:
            assert utf16_length(message) <= MESSAGE_LIMIT
            check_html(message)
        assert _shown(messages).replace("\n  ", "").count("a" * length) == 1


def test_an_area_header_travels_with_its_first_point() -> None:
    entries = [(p, Kind.IST, f"P{p} " + "y" * 1200) for p in range(1, 21)]
    messages = render.board_text(MODEL, MESSAGES, _view(entries))
    assert len(messages) > 3
    for message in messages:
        last = check_html(message).rstrip("\n").rsplit("\n", 1)[-1]
        assert "━━" not in last
        for area in MODEL.areas:
            header = f"━━ {area.number}. {area.name.upper()} ━━"
            if header in message:
                first = MODEL.point(area.points[0]).heading
                assert first in check_html(message).split(header, 1)[1]
