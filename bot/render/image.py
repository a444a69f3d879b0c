"""The board as a PNG in the model's layout: Kunde and Differenzierung left, Produkt centre,
Daten and Mitarbeiter right, Value Chain along the bottom."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.model.board import BoardView, EntryView
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
from bot.texts import Messages

FONT_DIR = Path(str(files("bot.render") / "fonts"))
WIDTH = 1280
MARGIN = 16
GAP = 10
TITLE_HEIGHT = 72
AREA_HEADER = 34
SLOT_HEIGHT = 172
BOTTOM_SLOT_HEIGHT = 230
PAD = 8

BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
IST_COLOUR = (13, 110, 253)
SOLL_COLOUR = (25, 135, 84)
EMPTY_FILL = (253, 236, 234)
EMPTY_INK = (200, 35, 51)
AREA_COLOURS = {
    "left-top": (231, 241, 255),
    "left-bottom": (240, 233, 255),
    "centre": (255, 244, 229),
    "right-top": (230, 247, 240),
    "right-bottom": (255, 240, 246),
    "bottom": (236, 240, 243),
}
HEADER_COLOURS = {
    "left-top": (13, 82, 191),
    "left-bottom": (102, 51, 153),
    "centre": (204, 102, 0),
    "right-top": (20, 120, 80),
    "right-bottom": (190, 40, 100),
    "bottom": (60, 72, 88),
}


@lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans (umlauts and ß included), never a font of the host."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size)


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    def contains(self, x: int, y: int) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom


@dataclass(frozen=True)
class Layout:
    """Where each area and each point's slot stands in the image."""

    width: int
    height: int
    areas: dict[str, Box]  # by place
    slots: dict[int, Box]  # by point number


def layout(model: ModelText) -> Layout:
    """Compute the boxes: three columns of point slots, then the Value Chain row."""
    column_width = (WIDTH - 2 * MARGIN - 2 * GAP) // 3
    columns = {
        "left": ["left-top", "left-bottom"],
        "centre": ["centre"],
        "right": ["right-top", "right-bottom"],
    }
    by_place = {a.place: a for a in model.areas}
    areas: dict[str, Box] = {}
    slots: dict[int, Box] = {}
    column_heights: list[int] = []
    for index, places in enumerate(columns.values()):
        left = MARGIN + index * (column_width + GAP)
        top = TITLE_HEIGHT
        for place in places:
            area = by_place[place]
            height = AREA_HEADER + len(area.points) * SLOT_HEIGHT
            areas[place] = Box(left, top, left + column_width, top + height)
            for offset, number in enumerate(area.points):
                slot_top = top + AREA_HEADER + offset * SLOT_HEIGHT
                slots[number] = Box(left, slot_top, left + column_width, slot_top + SLOT_HEIGHT)
            top += height + GAP
        column_heights.append(top)
    # stretch the shorter columns' last area so the three columns end on one line
    bottom_line = max(column_heights) - GAP
    for places in columns.values():
        last = areas[places[-1]]
        areas[places[-1]] = Box(last.left, last.top, last.right, bottom_line)
        final_point = by_place[places[-1]].points[-1]
        slot = slots[final_point]
        slots[final_point] = Box(slot.left, slot.top, slot.right, bottom_line)
    chain = by_place["bottom"]
    top = bottom_line + GAP
    height = AREA_HEADER + BOTTOM_SLOT_HEIGHT
    areas["bottom"] = Box(MARGIN, top, WIDTH - MARGIN, top + height)
    slot_width = (WIDTH - 2 * MARGIN) // len(chain.points)
    for offset, number in enumerate(chain.points):
        left = MARGIN + offset * slot_width
        slots[number] = Box(left, top + AREA_HEADER, left + slot_width, top + height)
    return Layout(WIDTH, top + height + MARGIN, areas, slots)


def drawable(text: str) -> str:
    """Text the font engine can lay out: control characters become spaces (line breaks stay)."""
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs") else " " for ch in text
    )


def _fits(text: str, face: ImageFont.FreeTypeFont, width: int) -> bool:
    return face.getlength(text) <= width


def _longest_prefix(text: str, face: ImageFont.FreeTypeFont, width: int, suffix: str = "") -> int:
    """How many leading characters of `text` (plus `suffix`) fit into `width` (binary search)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(text[:middle] + suffix, face, width):
            low = middle
        else:
            high = middle - 1
    return low


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: int, max_lines: int = 12) -> list[str]:
    """Break text into at most `max_lines` lines no wider than `width` (long words are cut)."""
    lines: list[str] = []
    for paragraph in drawable(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if _fits(candidate, face, width):
                line = candidate
                continue
            if line:
                lines.append(line)
            while word and not _fits(word, face, width):
                cut = max(1, _longest_prefix(word, face, width))
                lines.append(word[:cut])
                word = word[cut:]
                if len(lines) > max_lines:
                    return lines
            line = word
            if len(lines) > max_lines:
                return lines
        lines.append(line)
        if len(lines) > max_lines:
            return lines
    return lines


def _ellipsize(text: str, face: ImageFont.FreeTypeFont, width: int) -> str:
    text = drawable(text).replace("\n", " ")
    if _fits(text, face, width):
        return text
    return text[: _longest_prefix(text, face, width, "…")] + "…"


def _draw_slot(
    draw: ImageDraw.ImageDraw,
    box: Box,
    heading: str,
    entries: list[EntryView],
    messages: Messages,
) -> int:
    """Draw one point's slot; return how many of its entries did not fit."""
    heading_face, body_face, small_face = font(17, bold=True), font(15), font(14, bold=True)
    has_ist = any(e.kind == Kind.IST for e in entries)
    inner = Box(box.left + 4, box.top + 2, box.right - 4, box.bottom - 4)
    fill = BACKGROUND if has_ist else EMPTY_FILL
    draw.rounded_rectangle((inner.left, inner.top, inner.right, inner.bottom), 6, fill=fill)
    x, y = inner.left + PAD, inner.top + PAD - 2
    text_width = inner.width - 2 * PAD
    heading_lines = _wrap(heading, heading_face, text_width)
    if len(heading_lines) > 1:
        heading_lines = [
            heading_lines[0],
            _ellipsize(" ".join(heading_lines[1:]), heading_face, text_width),
        ]
    for line in heading_lines:
        draw.text((x, y), line, font=heading_face, fill=INK)
        y += 22
    y += 2
    if not has_ist:
        draw.text((x, y), messages.plain("image_empty"), font=small_face, fill=EMPTY_INK)
        y += 20
    line_height = 18
    more_line = line_height
    ordered = [e for e in entries if e.kind == Kind.IST] + [
        e for e in entries if e.kind == Kind.SOLL
    ]
    tag_width = 22
    for index, entry in enumerate(ordered):
        lines = _wrap(entry.text, body_face, text_width - tag_width)
        room = (inner.bottom - PAD - more_line - y) // line_height
        if index == len(ordered) - 1:
            room = (inner.bottom - PAD - y) // line_height
        if room <= 0:
            rest = len(ordered) - index
            draw.text((x, y), messages("image_more", count=rest), font=small_face, fill=MUTED)
            return rest
        remaining = len(ordered) - index
        share = max(2, (room - (1 if remaining > 1 else 0)) // remaining)
        shown = lines[: min(room, share)]
        if len(shown) < len(lines):
            shown[-1] = _ellipsize(shown[-1] + " …", body_face, text_width - tag_width)
        colour = IST_COLOUR if entry.kind == Kind.IST else SOLL_COLOUR
        label = messages.plain("kind_" + entry.kind.value)[0]
        draw.rounded_rectangle((x, y + 1, x + 16, y + 17), 3, fill=colour)
        draw.text((x + 8, y + 9), label, font=small_face, fill=BACKGROUND, anchor="mm")
        for line in shown:
            draw.text((x + tag_width, y), line, font=body_face, fill=INK)
            y += line_height
        y += 2
    return 0


@dataclass(frozen=True)
class Drawing:
    """The drawn board and, per point, how many entries were left out for lack of room."""

    image: Image.Image
    hidden: dict[int, int]


def render_png(model: ModelText, messages: Messages, view: BoardView) -> bytes:
    """Draw the board and return PNG bytes."""
    buffer = io.BytesIO()
    draw_board(model, messages, view).image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def draw_board(model: ModelText, messages: Messages, view: BoardView) -> Drawing:
    """Draw the board in the model's layout."""
    geometry = layout(model)
    hidden: dict[int, int] = {}
    image = Image.new("RGB", (geometry.width, geometry.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_face = font(28, bold=True)
    title = messages.plain("image_title").replace("{title}", view.title)
    draw.text(
        (MARGIN, 18),
        _ellipsize(title, title_face, WIDTH - 2 * MARGIN - 200),
        font=title_face,
        fill=INK,
    )
    filled = view.point_count - len(view.empty_points)
    draw.text(
        (WIDTH - MARGIN, 32),
        f"{filled}/{view.point_count}",
        font=font(24, bold=True),
        fill=SOLL_COLOUR if filled == view.point_count else MUTED,
        anchor="rm",
    )
    for area in model.areas:
        box = geometry.areas[area.place]
        draw.rounded_rectangle(
            (box.left, box.top, box.right, box.bottom), 10, fill=AREA_COLOURS[area.place]
        )
        header = Box(box.left, box.top, box.right, box.top + AREA_HEADER)
        draw.rounded_rectangle(
            (header.left, header.top, header.right, header.bottom),
            10,
            fill=HEADER_COLOURS[area.place],
        )
        draw.text(
            (header.left + 12, header.top + AREA_HEADER // 2),
            f"{area.number}  {area.name}",
            font=font(19, bold=True),
            fill=BACKGROUND,
            anchor="lm",
        )
        for number in area.points:
            hidden[number] = _draw_slot(
                draw,
                geometry.slots[number],
                model.point(number).heading,
                view.field(number),
                messages,
            )
    return Drawing(image, hidden)
