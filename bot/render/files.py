"""The board as files: Markdown for people, JSON (documented, versioned shape) for tools."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.model.board import BoardView, EntryView
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
from bot.model.plan_rows import PlanRow
from bot.render.dates import reader_date, reader_moment
from bot.render.markdown_text import escape_line, quote_lines, unescape_line
from bot.render.plan import plan_json
from bot.texts import Messages
from bot.unitext import safe_line, safe_text

JSON_FORMAT = "sechs-cluster-board"
JSON_VERSION = 1


def file_stem(title: str, when: datetime) -> str:
    """A safe file name from the board title and a date: `citybike-2027_2026-11-25`."""
    folded = unicodedata.normalize("NFKD", title.replace("ß", "ss"))
    ascii_title = folded.encode("ascii", "ignore").decode("ascii").casefold()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:60].strip("-") or "board"
    return f"{slug}_{when.date().isoformat()}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _entry_json(entry: EntryView) -> dict[str, object]:
    return {
        "id": entry.id,
        "text": safe_text(entry.text),
        "author": {"id": entry.author_id, "name": safe_line(entry.author_name)},
        "created_at": _iso(entry.created_at),
        "edited_at": _iso(entry.edited_at),
    }


def board_json(
    model: ModelText,
    view: BoardView,
    exported_at: datetime,
    plan: Sequence[PlanRow] | None = None,
) -> str:
    """The whole board as JSON of the shape in `docs/board-export.schema.json`."""
    document: dict[str, object] = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "board": {
            "id": view.id,
            "title": safe_line(view.title),
            "language": view.language,
            "status": view.status,
            "created_at": _iso(view.created_at),
            "exported_at": _iso(exported_at),
            "complete": view.is_complete,
            "entry_count": len(view.entries),
            "contributor_count": view.contributors,
        },
        "areas": [
            {"number": a.number, "key": a.key, "name": a.name, "points": list(a.points)}
            for a in model.areas
        ],
        "points": [
            {
                "number": p.number,
                "key": p.key,
                "title": p.title,
                "area": model.area_of(p.number).number,
                "ist": [_entry_json(e) for e in view.field(p.number, Kind.IST)],
                "soll": [_entry_json(e) for e in view.field(p.number, Kind.SOLL)],
            }
            for p in model.points
        ],
    }
    if plan is not None:
        document["plan"] = plan_json(plan)  # the shape of docs/plan.schema.json
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _fill(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _quote(text: str) -> list[str]:
    return [f"  > {line}" if line else "  >" for line in quote_lines(text)]


def _byline(label: str, author: str, stamp: str) -> str:
    return f"- **{escape_line(label, line_start=False)}** · {author} · {stamp}"


def board_markdown(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    exported_at: datetime,
    plan: Sequence[PlanRow] | None = None,
) -> str:
    """The whole board as Markdown that reads as prose; each entry stands in its own quote.

    Dates and times are in the reader's form and in the time zone of `exported_at`.
    """
    zone = exported_at.tzinfo
    status_word = messages.plain(
        "status_open_word" if view.status == "open" else "status_closed_word"
    )
    title = _fill(messages.plain("md_title"), title=safe_line(view.title))
    lines = [
        f"# {escape_line(title, line_start=False)}",
        "",
        _fill(
            messages.plain("md_meta"),
            date=reader_moment(exported_at, zone, messages),
            filled=str(view.point_count - len(view.empty_points)),
            total=str(view.point_count),
            entries=str(len(view.entries)),
            status=status_word,
        ),
        "",
    ]
    for area in model.areas:
        lines += [f"## {area.number}. {escape_line(area.name, line_start=False)}", ""]
        for number in area.points:
            lines += [f"### {escape_line(model.point(number).heading, line_start=False)}", ""]
            if not view.field(number):
                lines += [messages.plain("md_empty"), ""]
                continue
            for kind in (Kind.IST, Kind.SOLL):
                for entry in view.field(number, kind):
                    stamp = reader_moment(entry.created_at, zone, messages)
                    author = escape_line(safe_line(entry.author_name), line_start=False)
                    lines.append(_byline(messages.plain("kind_" + kind.value), author, stamp))
                    lines.append("")
                    lines += _quote(entry.text)
                    lines.append("")
    if plan is not None:
        lines += _plan_markdown(model, messages, plan)
    return "\n".join(lines)


def _plan_markdown(model: ModelText, messages: Messages, plan: Sequence[PlanRow]) -> list[str]:
    none = messages.plain("report_plan_none")
    columns = messages.plain("report_plan_columns").split("|")
    lines = [f"## {escape_line(messages.plain('report_plan'), line_start=False)}", ""]
    if not plan:
        lines += [escape_line(messages.plain("report_plan_empty"), line_start=True), ""]
    for row in plan:
        facts = [
            f"{columns[1]}: {escape_line(model.point(row.point).heading, line_start=False)}",
            f"{columns[3]}: {escape_line(safe_line(row.owner), line_start=False) if row.owner else none}",
            f"{columns[4]}: {reader_date(row.due, messages) if row.due else none}",
            f"{columns[5]}: {escape_line(row.status, line_start=False)}",
            f"{columns[6]}: {row.step if row.step is not None else none}",
        ]
        if row.votes is not None:
            facts.append(f"{messages.plain('vote_votes_column')}: {row.votes}")
        lines += [f"- **{row.number}** · " + " · ".join(facts), ""]
        lines += _quote(row.text)
        lines.append("")
    if plan:
        lines += [escape_line(messages.plain_format("plan_steps_note"), line_start=True), ""]
    return lines


@dataclass(frozen=True)
class MarkdownEntry:
    point: int
    kind: str
    author: str
    text: str


def parse_markdown(markdown: str, model: ModelText, messages: Messages) -> list[MarkdownEntry]:
    """Read the entries back from `board_markdown` output (for checks and re-import)."""
    headings = {f"### {escape_line(p.heading, line_start=False)}": p.number for p in model.points}
    labels = {
        f"- **{escape_line(messages.plain('kind_' + k.value), line_start=False)}** · ": k.value
        for k in Kind
    }
    found: list[MarkdownEntry] = []
    point = 0
    current: dict[str, str] | None = None
    quoted: list[str] = []

    def flush() -> None:
        nonlocal current, quoted
        if current is not None:
            found.append(
                MarkdownEntry(point, current["kind"], current["author"], "\n".join(quoted))
            )
        current, quoted = None, []

    for line in markdown.split("\n"):
        if line in headings:
            flush()
            point = headings[line]
        elif line.startswith("- **"):
            flush()
            prefix = next((label for label in labels if line.startswith(label)), None)
            if prefix is not None and " · " in line[len(prefix) :]:
                author = line[len(prefix) :].rsplit(" · ", 1)[0]
                current = {"kind": labels[prefix], "author": unescape_line(author)}
        elif line.startswith("## "):
            flush()
        elif current is not None and line.startswith("  >"):
            quoted.append(unescape_line(line[4:] if line.startswith("  > ") else line[3:]))
    flush()
    return found
