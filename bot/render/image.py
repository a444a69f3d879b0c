"""The board as a PNG in the model's layout: Kunde and Differenzierung left, Produkt centre,
Daten and Mitarbeiter right, Value Chain along the bottom.

Nothing is cut silently: slots take the height their content needs (within a limit that keeps
the picture legible on a phone); where a slot must still shorten, the cut line ends in "…" and
the slot says how many entries and lines are hidden, and a note at the bottom points to the
report, where every entry stands in full.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.model.board import BoardView
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
from bot.render.text_fit import Pen, drawable, font, share, wrap
from bot.texts import Messages

WIDTH = 1280
MARGIN = 16
GAP = 10
AREA_HEADER = 34
PAD = 8
TAG_WIDTH = 22
LINE = 18
HEADING_LINE = 22
ENTRY_GAP = 2
MIN_SLOT = 110
MAX_BODY = 1900  # the three columns: beyond this a phone shows the text too small
MIN_BOTTOM = 150
MAX_BOTTOM = 460
TITLE_SIZES = (28, 26, 24, 22, 20, 18)
COUNTER_ROOM = 120
NOTE_HEIGHT = 30

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
COLUMNS = (("left-top", "left-bottom"), ("centre",), ("right-top", "right-bottom"))


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def contains(self, x: int, y: int) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom


@dataclass(frozen=True)
class SlotText:
    """A point's slot at full length: heading lines and each entry's wrapped lines."""

    heading: list[str]
    empty: bool
    entries: list[tuple[Kind, list[str]]]

    def natural_height(self) -> int:
        """The height that shows everything."""
        height = PAD + 2 + len(self.heading) * HEADING_LINE + 2 + (20 if self.empty else 0)
        height += sum(len(lines) * LINE + ENTRY_GAP for _, lines in self.entries)
        return height + PAD + 6


@dataclass(frozen=True)
class Layout:
    """Where the title, each area and each point's slot stand in the image (1× units)."""

    width: int
    height: int
    title_lines: list[str]
    title_size: int
    areas: dict[str, Box]  # by place
    slots: dict[int, Box]  # by point number
    note: Box | None  # the line that points to the report when something is shortened


def _slot_width(place: str) -> int:
    if place == "bottom":
        return (WIDTH - 2 * MARGIN) // 4
    return (WIDTH - 2 * MARGIN - 2 * GAP) // 3


def _slot_text(heading: str, view: BoardView, number: int, width: int, scale: int) -> SlotText:
    text_width = width - 8 - 2 * PAD
    heading_pen, body_pen = Pen(17, True, scale), Pen(15, False, scale)
    heading_lines = wrap(heading, heading_pen, text_width, max_lines=3)
    ordered = view.field(number, Kind.IST) + view.field(number, Kind.SOLL)
    entries = [
        (e.kind, wrap(e.text, body_pen, text_width - TAG_WIDTH, max_lines=None)) for e in ordered
    ]
    return SlotText(heading_lines, not view.field(number, Kind.IST), entries)


def _title(text: str, scale: int) -> tuple[list[str], int]:
    """The whole title: the largest size at which it takes at most two lines, else more lines."""
    width = WIDTH - 2 * MARGIN - COUNTER_ROOM
    for size in TITLE_SIZES:
        lines = wrap(text, Pen(size, True, scale), width, max_lines=None)
        if len(lines) <= 2:
            return lines, size
    size = TITLE_SIZES[-1]
    return wrap(text, Pen(size, True, scale), width, max_lines=None), size


def _column_heights(naturals: list[int], room: int) -> list[int]:
    """Slot heights for one column: what each needs, shared fairly when the room is short."""
    needs = [max(n, MIN_SLOT) for n in naturals]
    if sum(needs) >= room:
        return share(needs, room)
    return [*needs[:-1], needs[-1] + room - sum(needs)]


def layout(
    model: ModelText, messages: Messages, view: BoardView, scale: int = 1
) -> tuple[Layout, dict[int, SlotText]]:
    """The boxes, sized from the content: three columns of point slots, then the Value Chain row."""
    title_text = messages.plain("image_title").replace("{title}", view.title)
    title_lines, title_size = _title(title_text, scale)
    top = 18 + len(title_lines) * round(title_size * 1.3) + 14
    by_place = {a.place: a for a in model.areas}
    texts = {
        n: _slot_text(model.point(n).heading, view, n, _slot_width(a.place), scale)
        for a in model.areas
        for n in a.points
    }

    def column_need(places: tuple[str, ...]) -> int:
        points = [n for p in places for n in by_place[p].points]
        fixed = len(places) * AREA_HEADER + (len(places) - 1) * GAP
        return fixed + sum(max(texts[n].natural_height(), MIN_SLOT) for n in points)

    body = min(max(column_need(places) for places in COLUMNS), MAX_BODY)
    column_width = _slot_width("centre")
    areas: dict[str, Box] = {}
    slots: dict[int, Box] = {}
    for index, places in enumerate(COLUMNS):
        left = MARGIN + index * (column_width + GAP)
        points = [n for p in places for n in by_place[p].points]
        room = body - len(places) * AREA_HEADER - (len(places) - 1) * GAP
        heights = dict(
            zip(
                points,
                _column_heights([texts[n].natural_height() for n in points], room),
                strict=True,
            )
        )
        y = top
        for place in places:
            area_top = y
            y += AREA_HEADER
            for number in by_place[place].points:
                slots[number] = Box(left, y, left + column_width, y + heights[number])
                y += heights[number]
            areas[place] = Box(left, area_top, left + column_width, y)
            y += GAP
    chain = by_place["bottom"]
    top += body + GAP
    row = max(texts[n].natural_height() for n in chain.points)
    row = min(max(row, MIN_BOTTOM), MAX_BOTTOM)
    areas["bottom"] = Box(MARGIN, top, WIDTH - MARGIN, top + AREA_HEADER + row)
    slot_width = _slot_width("bottom")
    for offset, number in enumerate(chain.points):
        left = MARGIN + offset * slot_width
        slots[number] = Box(left, top + AREA_HEADER, left + slot_width, top + AREA_HEADER + row)
    bottom = top + AREA_HEADER + row
    shortened = any(texts[n].natural_height() > slots[n].height for n in texts)
    note = Box(MARGIN, bottom + 6, WIDTH - MARGIN, bottom + 6 + NOTE_HEIGHT) if shortened else None
    height = (note.bottom if note else bottom) + MARGIN
    geometry = Layout(WIDTH, height, title_lines, title_size, areas, slots, note)
    return geometry, texts


class Canvas:
    """Draws in 1× units onto an image `scale` times as large, so the 2× image stays sharp."""

    def __init__(self, width: int, height: int, scale: int) -> None:
        self.scale = scale
        self.image = Image.new("RGB", (width * scale, height * scale), BACKGROUND)
        self._draw = ImageDraw.Draw(self.image)

    def box(self, box: Box, radius: int, fill: tuple[int, int, int]) -> None:
        s = self.scale
        corners = (box.left * s, box.top * s, box.right * s - 1, box.bottom * s - 1)
        self._draw.rounded_rectangle(corners, radius * s, fill=fill)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        pen: Pen,
        fill: tuple[int, int, int],
        anchor: str | None = None,
    ) -> None:
        face = font(pen.size * self.scale, pen.bold)
        shown = drawable(text)  # whatever the caller passed: no separator the layout fails on
        self._draw.text(
            (x * self.scale, y * self.scale), shown, font=face, fill=fill, anchor=anchor
        )


@dataclass(frozen=True)
class Cut:
    """How a slot's entries were shortened to its height."""

    shown: list[int]  # lines shown per entry, for the entries shown
    hidden_entries: int
    hidden_lines: int


def fit_entries(line_counts: list[int], room: int) -> Cut:
    """Share `room` pixels between entries; if not all fit, keep a line for the "+N" note."""
    total = sum(n * LINE + ENTRY_GAP for n in line_counts)
    if total <= room:
        return Cut(line_counts, 0, 0)
    room -= LINE
    count = max(0, min(len(line_counts), room // (LINE + ENTRY_GAP)))
    lines = max(0, (room - count * ENTRY_GAP) // LINE)
    shown = share(line_counts[:count], lines) if count else []
    hidden_lines = sum(n - s for n, s in zip(line_counts, shown, strict=False))
    return Cut(shown, len(line_counts) - count, hidden_lines)


def _hidden_note(messages: Messages, cut: Cut) -> str:
    parts = []
    if cut.hidden_entries:
        parts.append(
            messages.plain("image_hidden_entries").replace("{count}", str(cut.hidden_entries))
        )
    if cut.hidden_lines:
        parts.append(messages.plain("image_hidden_lines").replace("{count}", str(cut.hidden_lines)))
    return " · ".join(parts)


def _draw_slot(canvas: Canvas, box: Box, slot: SlotText, messages: Messages) -> Cut:
    """Draw one point's slot; say what did not fit."""
    heading_pen, body_pen, small_pen = (
        Pen(17, True, canvas.scale),
        Pen(15, False, canvas.scale),
        Pen(14, True, canvas.scale),
    )
    inner = Box(box.left + 4, box.top + 2, box.right - 4, box.bottom - 4)
    canvas.box(inner, 6, EMPTY_FILL if slot.empty else BACKGROUND)
    x, y = inner.left + PAD, inner.top + PAD - 2
    text_width = inner.width - 2 * PAD
    for line in slot.heading:
        canvas.text(x, y, line, heading_pen, INK)
        y += HEADING_LINE
    y += 2
    if slot.empty:
        canvas.text(x, y, messages.plain("image_empty"), small_pen, EMPTY_INK)
        y += 20
    cut = fit_entries([len(lines) for _, lines in slot.entries], inner.bottom - PAD - y)
    for (kind, lines), count in zip(slot.entries, cut.shown, strict=False):
        if count == 0:
            continue
        shown = lines[:count]
        if count < len(lines):
            shown[-1] = body_pen.ellipsize(shown[-1] + " …", text_width - TAG_WIDTH)
        colour = IST_COLOUR if kind == Kind.IST else SOLL_COLOUR
        label = messages.plain("kind_" + kind.value)[0]
        canvas.box(Box(x, y + 1, x + 16, y + 17), 3, colour)
        canvas.text(x + 8, y + 9, label, small_pen, BACKGROUND, anchor="mm")
        for line in shown:
            canvas.text(x + TAG_WIDTH, y, line, body_pen, INK)
            y += LINE
        y += ENTRY_GAP
    note = _hidden_note(messages, cut)
    if note:
        canvas.text(x, inner.bottom - PAD - LINE + 2, note, small_pen, MUTED)
    return cut


@dataclass(frozen=True)
class Drawing:
    """The drawn board and, per point, how many entries and lines were left out for lack of room."""

    image: Image.Image
    geometry: Layout
    hidden: dict[int, int]
    hidden_lines: dict[int, int]


def render_png(
    model: ModelText, messages: Messages, view: BoardView, scale: int = 1, *, fast: bool = False
) -> bytes:
    """Draw the board and return PNG bytes; `scale=2` for the sharp version sent as a document.

    `fast` trades size for time (for a picture that is embedded and compressed again, as in the
    report); otherwise the 1× image is optimised, as it is sent most often.
    """
    buffer = io.BytesIO()
    image = draw_board(model, messages, view, scale).image
    if fast:
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="PNG", optimize=scale == 1)
    return buffer.getvalue()


def draw_board(model: ModelText, messages: Messages, view: BoardView, scale: int = 1) -> Drawing:
    """Draw the board in the model's layout."""
    geometry, texts = layout(model, messages, view, scale)
    canvas = Canvas(geometry.width, geometry.height, scale)
    title_pen = Pen(geometry.title_size, True, scale)
    for index, line in enumerate(geometry.title_lines):
        canvas.text(MARGIN, 18 + index * round(geometry.title_size * 1.3), line, title_pen, INK)
    filled = view.point_count - len(view.empty_points)
    canvas.text(
        WIDTH - MARGIN,
        18 + geometry.title_size * 0.65,
        f"{filled}/{view.point_count}",
        Pen(24, True, scale),
        SOLL_COLOUR if filled == view.point_count else MUTED,
        anchor="rm",
    )
    hidden: dict[int, int] = {}
    hidden_lines: dict[int, int] = {}
    for area in model.areas:
        box = geometry.areas[area.place]
        canvas.box(box, 10, AREA_COLOURS[area.place])
        header = Box(box.left, box.top, box.right, box.top + AREA_HEADER)
        canvas.box(header, 10, HEADER_COLOURS[area.place])
        canvas.text(
            header.left + 12,
            header.top + AREA_HEADER // 2,
            drawable(f"{area.number}  {area.name}"),
            Pen(19, True, scale),
            BACKGROUND,
            anchor="lm",
        )
        for number in area.points:
            cut = _draw_slot(canvas, geometry.slots[number], texts[number], messages)
            hidden[number] = cut.hidden_entries
            hidden_lines[number] = cut.hidden_lines
    if geometry.note is not None:
        canvas.text(
            geometry.note.left + 4,
            geometry.note.top + 6,
            messages.plain("image_cut_note"),
            Pen(15, True, scale),
            MUTED,
        )
    return Drawing(canvas.image, geometry, hidden, hidden_lines)
