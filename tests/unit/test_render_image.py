"""The board image: layout, text inside the boxes, umlauts, and many entries."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.catalogue import load_catalogue
from bot.model.demo import demo_board
from bot.model.entry_text import Kind
from bot.render.image import (
    AREA_COLOURS,
    EMPTY_FILL,
    HEADER_COLOURS,
    MAX_BODY,
    MUTED,
    WIDTH,
    draw_board,
    fit_entries,
    font,
    layout,
    render_png,
)
from bot.texts import load_texts

MODEL = load_catalogue()["de"]
MESSAGES = load_texts()["de"]
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _empty() -> BoardView:
    return BoardView(
        id=1,
        title="Leeres Board",
        language="de",
        status=BoardStatus.OPEN,
        created_at=START,
        entries=(),
    )


def _image(view: BoardView) -> Image.Image:
    return Image.open(io.BytesIO(render_png(MODEL, MESSAGES, view))).convert("RGB")


def _dark_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    region = image.crop(box).convert("L")
    return sum(1 for value in region.tobytes() if value < 100)


def test_layout_follows_the_model() -> None:
    geometry, _ = layout(MODEL, MESSAGES, demo_board(MODEL, "Citybike", "de"))
    left_top, left_bottom = geometry.areas["left-top"], geometry.areas["left-bottom"]
    centre = geometry.areas["centre"]
    right_top, right_bottom = geometry.areas["right-top"], geometry.areas["right-bottom"]
    bottom = geometry.areas["bottom"]
    assert left_top.right < centre.left < centre.right < right_top.left
    assert left_top.bottom < left_bottom.top
    assert right_top.bottom < right_bottom.top
    assert bottom.top > max(left_bottom.bottom, centre.bottom, right_bottom.bottom)
    assert bottom.right - bottom.left > 0.95 * WIDTH
    for area in MODEL.areas:
        box = geometry.areas[area.place]
        for number in area.points:
            slot = geometry.slots[number]
            assert box.left <= slot.left < slot.right <= box.right
            assert box.top <= slot.top < slot.bottom <= box.bottom


def test_demo_image_size_boxes_and_text() -> None:
    view = demo_board(MODEL, "Citybike", "de")
    image = _image(view)
    geometry, _ = layout(MODEL, MESSAGES, view)
    assert image.size == (geometry.width, geometry.height)
    assert image.width == 1280
    assert 1200 < image.height < 2600
    for area in MODEL.areas:
        box = geometry.areas[area.place]
        # the header band has the area's colour, the box the area's background
        assert image.getpixel((box.right - 12, box.top + 6)) == HEADER_COLOURS[area.place]
        assert image.getpixel((box.left + 2, box.bottom - 12)) == AREA_COLOURS[area.place]
        # the header carries the area's name: white text on the colour band
        band = image.crop((box.left + 8, box.top + 4, box.left + 200, box.top + 30))
        assert max(band.convert("L").tobytes()) == 255
        for number in area.points:
            slot = geometry.slots[number]
            assert (
                _dark_pixels(image, (slot.left, slot.top, slot.right, slot.top + 26)) > 150
            )  # heading
            assert (
                _dark_pixels(image, (slot.left, slot.top + 30, slot.right, slot.bottom)) > 300
            )  # entries


def test_empty_board_marks_every_point() -> None:
    image = _image(_empty())
    geometry, _ = layout(MODEL, MESSAGES, _empty())
    for number, slot in geometry.slots.items():
        centre = ((slot.left + slot.right) // 2, slot.bottom - 12)
        assert image.getpixel(centre) == EMPTY_FILL, number
        assert _dark_pixels(image, (slot.left, slot.top, slot.right, slot.top + 26)) > 100


def test_umlauts_are_real_glyphs() -> None:
    face = font(40)
    missing = face.getmask("\ue000").getbbox()  # a private-use character: the font's "missing" box
    for plain, umlaut in (("a", "ä"), ("o", "ö"), ("u", "ü"), ("A", "Ä"), ("s", "ß")):
        assert face.getmask(umlaut).getbbox() != missing
        assert bytes(face.getmask(umlaut)) != bytes(face.getmask(plain))
    ascii_a = face.getbbox("a")
    umlaut_a = face.getbbox("ä")
    assert umlaut_a[1] < ascii_a[1]  # the dots stand above the letter


def test_five_hundred_entries_still_render_with_counts() -> None:
    entries = tuple(
        EntryView(
            id=i,
            point=1 + i % 20,
            kind=Kind.IST if i % 3 else Kind.SOLL,
            text=f"Eintrag {i} mit Ä, Ö, Ü und ß " * 3,
            author_id=i % 7,
            author_name="Anna",
            created_at=START + timedelta(minutes=i),
        )
        for i in range(500)
    )
    view = BoardView(
        id=1,
        title="Voll",
        language="de",
        status=BoardStatus.OPEN,
        created_at=START,
        entries=entries,
    )
    drawing = draw_board(MODEL, MESSAGES, view)
    assert drawing.image.width == 1280
    assert all(count > 0 for count in drawing.hidden.values())
    assert all(count < 25 for count in drawing.hidden.values())
    png = render_png(MODEL, MESSAGES, view)
    assert png.startswith(b"\x89PNG")


def _board(title: str, texts: list[tuple[int, Kind, str]]) -> BoardView:
    return BoardView(
        id=1,
        title=title,
        language="de",
        status=BoardStatus.OPEN,
        created_at=START,
        entries=tuple(
            EntryView(
                id=i,
                point=point,
                kind=kind,
                text=text,
                author_id=1,
                author_name="Anna",
                created_at=START + timedelta(minutes=i),
            )
            for i, (point, kind, text) in enumerate(texts)
        ),
    )


def test_the_demo_boards_show_everything() -> None:
    catalogue, texts = load_catalogue(), load_texts()
    for language in ("de", "en"):
        messages = texts[language]
        view = demo_board(catalogue[language], messages.plain("demo_title"), language)
        drawing = draw_board(catalogue[language], messages, view)
        assert sum(drawing.hidden.values()) == 0, language
        assert sum(drawing.hidden_lines.values()) == 0, language
        assert drawing.geometry.note is None
        title = messages.plain("image_title").replace("{title}", view.title)
        assert " ".join(drawing.geometry.title_lines) == title


def test_a_long_title_is_shown_whole() -> None:
    title = "Ein sehr langer Titel " * 6 + "Ende"
    drawing = draw_board(MODEL, MESSAGES, _board(title.strip(), []))
    shown = " ".join(drawing.geometry.title_lines)
    assert shown == MESSAGES.plain("image_title").replace("{title}", title.strip())
    assert "…" not in shown


def test_room_left_in_a_column_goes_to_the_slot_that_needs_it() -> None:
    long = "Ein langer Satz über Kunden und Räder mit Ä, Ö und Ü. " * 20
    drawing = draw_board(MODEL, MESSAGES, _board("Board", [(1, Kind.IST, long)]))
    assert drawing.hidden_lines[1] == 0
    assert drawing.geometry.slots[1].height > drawing.geometry.slots[2].height


def test_cuts_are_marked_and_counted() -> None:
    long = "Ein langer Satz über Kunden und Räder mit Ä, Ö und Ü. " * 8
    entries = [(1 + i % 20, Kind.IST if i % 3 else Kind.SOLL, f"{i}: {long}") for i in range(60)]
    drawing = draw_board(MODEL, MESSAGES, _board("Board", entries))
    assert all(lines > 0 for lines in drawing.hidden_lines.values())
    assert drawing.geometry.note is not None
    note = drawing.geometry.note
    region = drawing.image.crop((note.left, note.top, note.right, note.bottom))
    assert MUTED in {colour for _, colour in region.getcolors(1 << 16) or []}
    body = drawing.geometry.areas["bottom"].top - drawing.geometry.areas["left-top"].top
    assert body <= MAX_BODY + 10


def test_fit_entries_accounts_for_every_line() -> None:
    for counts, room in (([3, 40, 2], 300), ([1] * 30, 200), ([5, 5], 1000), ([80], 18 * 3)):
        cut = fit_entries(counts, room)
        shown = len(cut.shown)
        assert shown + cut.hidden_entries == len(counts)
        assert sum(cut.shown) + cut.hidden_lines == sum(counts[:shown])
        used = sum(18 * n + 2 for n in cut.shown)
        if cut.hidden_entries or cut.hidden_lines:
            assert used + 18 <= room
        else:
            assert used <= room


def test_the_document_version_is_twice_as_large() -> None:
    view = demo_board(MODEL, "Citybike", "de")
    small = Image.open(io.BytesIO(render_png(MODEL, MESSAGES, view)))
    large = Image.open(io.BytesIO(render_png(MODEL, MESSAGES, view, scale=2)))
    assert large.size == (2 * small.width, 2 * small.height)
