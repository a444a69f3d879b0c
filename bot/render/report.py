"""The report: the whole board as a PDF for the people who were not in the chat (SPEC §5).

Title page, the model picture, every point with its guiding questions and all entries in full,
the closing review, and the plan when there is one. ReportLab lays the text out; the shipped
DejaVu Sans draws it, so umlauts, ß, Hebrew and Arabic letters have glyphs, and the shipped
Noto Emoji (monochrome) draws the emoji DejaVu lacks; a character neither has is drawn as a
fallback box.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bot.model.board import BoardView, EntryView
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
from bot.model.plan_rows import PlanRow
from bot.model.review import review_board
from bot.render.dates import reader_date, reader_moment, zone_name
from bot.render.html import step_links
from bot.render.image import render_png
from bot.render.text_fit import FONT_DIR
from bot.texts import Html, Messages
from bot.unitext import unify_breaks

REGULAR, BOLD, EMOJI = "DejaVuSans", "DejaVuSans-Bold", "NotoEmoji"
EMOJI_FILE = "NotoEmoji.ttf"
_PRESENTATION = {"\ufe0e", "\ufe0f"}  # variation selectors: the glyph is drawn as it is
FALLBACK = "□"
LONG_ENTRY = 1200  # characters: about a third of a page
SPLIT_ROOM = 120  # points of room left on a page for a long entry to start there
INK = colors.HexColor("#212529")
MUTED = colors.HexColor("#6c757d")
IST = colors.HexColor("#0d6efd")
SOLL = colors.HexColor("#198754")


@lru_cache(maxsize=1)
def _fonts() -> tuple[frozenset[int], frozenset[int]]:
    """Register the shipped fonts once; the code points the text font and the emoji font draw."""
    regular = TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    emoji = TTFont(EMOJI, str(FONT_DIR / EMOJI_FILE))
    pdfmetrics.registerFont(emoji)
    return frozenset(regular.face.charToGlyph), frozenset(emoji.face.charToGlyph)


def _glyphs() -> frozenset[int]:
    return _fonts()[0]


def _runs(text: str) -> list[tuple[bool, str]]:
    """A person's text as the fonts can draw it, in runs of (emoji font?, text): invisible
    controls dropped, a character neither font has boxed."""
    glyphs, emoji = _fonts()
    text = unify_breaks(text)
    runs: list[tuple[bool, list[str]]] = []

    def add(char: str, in_emoji: bool) -> None:
        if runs and runs[-1][0] == in_emoji:
            runs[-1][1].append(char)
        else:
            runs.append((in_emoji, [char]))

    for char in text:
        if char == "\n":
            add(char, False)
        elif char.isspace():
            add(" ", False)
        elif char in _PRESENTATION or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        elif ord(char) in glyphs:
            add(char, False)
        elif ord(char) in emoji:
            add(char, True)
        elif not runs or runs[-1][1][-1:] != [FALLBACK]:
            add(FALLBACK, False)
    return [(in_emoji, "".join(chars)) for in_emoji, chars in runs]


def _printable(text: str) -> str:
    """A person's text as the fonts can draw it (plain, e.g. for the document's title)."""
    return "".join(run for _, run in _runs(text))


def _markup(text: str) -> str:
    """A person's text as paragraph markup: escaped first, line breaks kept, emoji set in the
    emoji font."""
    parts = [
        f'<font name="{EMOJI}">{escape(run)}</font>' if in_emoji else escape(run)
        for in_emoji, run in _runs(text)
    ]
    return "".join(parts).replace("\n", "<br/>")


class _Styles:
    def __init__(self) -> None:
        _glyphs()
        base = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=13.5, textColor=INK)
        self.body = base
        self.small = ParagraphStyle("small", base, fontSize=8.5, leading=11, textColor=MUTED)
        self.entry = ParagraphStyle("entry", base, leftIndent=10, spaceBefore=3)
        self.author = ParagraphStyle("author", self.small, leftIndent=10, spaceAfter=2)
        self.question = ParagraphStyle("question", base, leftIndent=12, bulletIndent=2)
        self.cover = ParagraphStyle("cover", base, fontName=BOLD, fontSize=26, leading=32)
        self.cover_title = ParagraphStyle(
            "cover_title", base, fontName=BOLD, fontSize=18, leading=23
        )
        self.h1 = ParagraphStyle(
            "h1", base, fontName=BOLD, fontSize=16, leading=20, spaceBefore=6, spaceAfter=8
        )
        self.h2 = ParagraphStyle(
            "h2", base, fontName=BOLD, fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=3
        )
        self.label = ParagraphStyle("label", base, fontName=BOLD, fontSize=10, spaceBefore=4)
        self.cell = ParagraphStyle("cell", base, fontSize=8.5, leading=11)


def _kind_label(messages: Messages, kind: Kind, styles: _Styles) -> Paragraph:
    colour = IST if kind == Kind.IST else SOLL
    label = escape(messages.plain("kind_" + kind.value))
    return Paragraph(f'<font color="{colour.hexval()}">{label}</font>', styles.label)


def _entry(messages: Messages, entry: EntryView, now: datetime, styles: _Styles) -> list[Flowable]:
    when = reader_moment(entry.created_at, now.tzinfo, messages)
    byline = messages("report_by", name=Html(_markup(entry.author_name)), when=when)
    if entry.edited_at is not None:
        edited = reader_moment(entry.edited_at, now.tzinfo, messages)
        byline = Html(byline + " · " + messages("report_edited", when=edited))
    return [Paragraph(_markup(entry.text), styles.entry), Paragraph(byline, styles.author)]


def _point(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    number: int,
    now: datetime,
    styles: _Styles,
    lead: Sequence[Flowable] = (),
) -> list[Flowable]:
    point = model.point(number)
    head: list[Flowable] = [
        *lead,
        Paragraph(escape(point.heading), styles.h2),
        Paragraph(messages("report_questions"), styles.label),
        *(Paragraph(escape(q), styles.question, bulletText="•") for q in point.questions),
    ]
    # groups kept on one page: a label with its first entry, an entry with its author; a long
    # entry may still flow on to the next page when enough room is left on this one
    groups: list[tuple[list[Flowable], bool]] = []
    if not view.field(number, Kind.IST):
        groups.append(([Paragraph(messages("report_field_empty"), styles.entry)], False))
    for kind in (Kind.IST, Kind.SOLL):
        entries = view.field(number, kind)
        if not entries:
            continue
        opening, *rest = entries
        label = _kind_label(messages, kind, styles)
        groups.append(([label, *_entry(messages, opening, now, styles)], _long(opening)))
        groups += [(_entry(messages, entry, now, styles), _long(entry)) for entry in rest]
    # the heading and questions stay with the first group (KeepTogether must not be nested:
    # it reports an endless height to force its split, which would break every page)
    lead_group, lead_long = groups[0] if groups else ([], False)
    story = _together([*head, *lead_group], lead_long)
    for group, long in groups[1:]:
        story += _together(group, long)
    return story


def _long(entry: EntryView) -> bool:
    return len(entry.text) > LONG_ENTRY


def _together(flowables: list[Flowable], long: bool) -> list[Flowable]:
    """Kept on one page; a long entry (the last two flowables) flows on to the next page.

    It starts on this page when at least SPLIT_ROOM is left, with what stands before it.
    """
    if not long:
        return [KeepTogether(flowables)]
    before, entry = flowables[:-2], flowables[-2:]
    return [CondPageBreak(SPLIT_ROOM), *([KeepTogether(before)] if before else []), *entry]


def _cover(
    model: ModelText, messages: Messages, view: BoardView, now: datetime, styles: _Styles
) -> list[Flowable]:
    filled = view.point_count - len(view.empty_points)
    status = messages.plain("status_open_word" if view.status == "open" else "status_closed_word")
    lines = [
        messages("report_as_of", date=reader_date(now.date(), messages)),
        messages("report_status", status=status),
        messages(
            "report_team_one" if view.contributors == 1 else "report_team", count=view.contributors
        ),
        messages(
            "report_completeness", filled=filled, total=view.point_count, entries=len(view.entries)
        ),
        messages("report_times", zone=zone_name(now.tzinfo, now)),
    ]
    return [
        Spacer(1, 50 * mm),
        Paragraph(messages("report_title"), styles.cover),
        Spacer(1, 6 * mm),
        Paragraph(_markup(view.title), styles.cover_title),
        Spacer(1, 12 * mm),
        *(Paragraph(line, styles.body) for line in lines),
        Spacer(1, 30 * mm),
        Paragraph(escape(model.source.citation), styles.small),
        PageBreak(),
    ]


def _picture(png: bytes, width: float, height: float) -> Image:
    picture = Image(io.BytesIO(png))
    ratio = min(width / picture.imageWidth, height / picture.imageHeight)
    picture.drawWidth = picture.imageWidth * ratio
    picture.drawHeight = picture.imageHeight * ratio
    return picture


def _review(
    model: ModelText, messages: Messages, view: BoardView, styles: _Styles
) -> list[Flowable]:
    result = review_board(model, view)
    story: list[Flowable] = [Paragraph(messages("report_review"), styles.h1)]
    for numbers, some, none in (
        (result.blocking, "report_missing", "report_missing_none"),
        (result.warnings, "report_no_soll", "report_no_soll_none"),
    ):
        if numbers:
            items = [
                Paragraph(escape(model.point(n).heading), styles.question, bulletText="•")
                for n in numbers
            ]
            story.append(KeepTogether([Paragraph(messages(some), styles.label), *items[:1]]))
            story.extend(items[1:])
        else:
            story.append(Paragraph(messages(none), styles.label))
    story.append(Paragraph(messages("report_steps"), styles.h2))
    story.append(Paragraph(messages("report_steps_note"), styles.small))
    for coverage in result.steps:
        step = coverage.step
        points = ", ".join(str(p) for p in step.points)
        if coverage.covered:
            line = messages(
                "report_step_covered", number=step.number, title=step.title, points=points
            )
        else:
            missing = ", ".join(str(p) for p in coverage.missing)
            line = messages(
                "report_step_open",
                number=step.number,
                title=step.title,
                points=points,
                missing=missing,
            )
        story.append(
            KeepTogether(
                [
                    Paragraph(line, styles.entry),
                    Paragraph(step_links(messages, step), styles.author),
                ]
            )
        )
    return story


def _plan(
    model: ModelText, messages: Messages, plan: Sequence[PlanRow], width: float, styles: _Styles
) -> list[Flowable]:
    if not plan:
        empty = Paragraph(messages("report_plan_empty"), styles.entry)
        return [PageBreak(), Paragraph(messages("report_plan"), styles.h1), empty]
    none = messages.plain("report_plan_none")
    columns = messages.plain("report_plan_columns").split("|")
    voted = any(row.votes is not None for row in plan)
    if voted:
        columns.append(messages.plain("vote_votes_column"))
    rows: list[list[Flowable]] = [[Paragraph(escape(c), styles.cell) for c in columns]]
    for row in plan:
        cells = [
            str(row.number),
            model.point(row.point).heading,
            row.text,
            row.owner or none,
            reader_date(row.due, messages) if row.due is not None else none,
            row.status,
            str(row.step) if row.step is not None else none,
        ]
        if voted:
            cells.append(str(row.votes or 0))
        rows.append([Paragraph(_markup(cell), styles.cell) for cell in cells])
    shares: tuple[float, ...] = (0.05, 0.16, 0.29, 0.17, 0.13, 0.10, 0.10)
    if voted:  # the votes' column takes from the measure's text
        shares = (0.05, 0.16, 0.22, 0.17, 0.13, 0.10, 0.08, 0.09)
    # a measure as long as an entry may be (4,000 characters) continues on the next page
    table = Table(rows, colWidths=[width * s for s in shares], repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, MUTED),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
            ]
        )
    )
    note = Paragraph(_markup(messages.plain_format("plan_steps_note")), styles.small)
    return [PageBreak(), Paragraph(messages("report_plan"), styles.h1), table, note]


def render_pdf(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    *,
    now: datetime,
    plan: Sequence[PlanRow] | None = None,
    picture: bytes | None = None,
    draw: bool = True,
) -> bytes:
    """The report as PDF bytes; `now` (timezone-aware) gives the date and the reader's time zone.

    `picture` is the board's PNG when the caller has drawn it already (at 2×), else it is drawn
    (unless `draw` is false: the image could not be drawn, and the report says so instead).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    styles = _Styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=_printable(view.title),
        author="Sechs-Cluster-Bot",
    )
    story: list[Flowable] = _cover(model, messages, view, now, styles)
    story.append(Paragraph(messages("report_picture"), styles.h1))
    if picture is not None or draw:
        png = picture or render_png(model, messages, view, scale=2, fast=True)
        story.append(_picture(png, document.width, document.height - 20 * mm))
    else:
        story.append(Paragraph(messages("report_picture_failed"), styles.body))
    story.append(PageBreak())
    for area in model.areas:
        header = Paragraph(messages("report_area", number=area.number, name=area.name), styles.h1)
        for number in area.points:
            lead = [header] if number == area.points[0] else []
            story += _point(model, messages, view, number, now, styles, lead)
    story += [PageBreak(), *_review(model, messages, view, styles)]
    if plan is not None:
        story += _plan(model, messages, plan, document.width, styles)

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(MUTED)
        page = messages.plain("report_page").replace("{page}", str(doc.page))
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, page)
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
