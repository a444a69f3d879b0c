"""The board as files: Markdown for people, JSON (documented, versioned shape) for tools."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from bot.model.board import BoardView, EntryView
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
from bot.texts import Messages

JSON_FORMAT = "sechs-cluster-board"
JSON_VERSION = 1
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


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
        "text": entry.text,
        "author": {"id": entry.author_id, "name": entry.author_name},
        "created_at": _iso(entry.created_at),
        "edited_at": _iso(entry.edited_at),
    }


def board_json(model: ModelText, view: BoardView, exported_at: datetime) -> str:
    """The whole board as JSON of the shape in `docs/board-export.schema.json`."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "board": {
            "id": view.id,
            "title": view.title,
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
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _md_escape(text: str) -> str:
    return _PUNCTUATION.sub(r"\\\1", text)


def _md_unescape(text: str) -> str:
    return _UNESCAPE.sub(r"\1", text)


def board_markdown(
    model: ModelText, messages: Messages, view: BoardView, exported_at: datetime
) -> str:
    """The whole board as Markdown; each entry's text stands quoted, escaped, line by line."""
    status_word = messages.plain(
        "status_open_word" if view.status == "open" else "status_closed_word"
    )
    lines = [
        f"# {_md_escape(messages.plain('md_title').replace('{title}', view.title))}",
        "",
        messages.plain("md_meta")
        .replace("{date}", exported_at.strftime("%Y-%m-%d %H:%M UTC"))
        .replace("{filled}", str(view.point_count - len(view.empty_points)))
        .replace("{total}", str(view.point_count))
        .replace("{entries}", str(len(view.entries)))
        .replace("{status}", status_word),
        "",
    ]
    for area in model.areas:
        lines += [f"## {area.number}. {_md_escape(area.name)}", ""]
        for number in area.points:
            lines += [f"### {_md_escape(model.point(number).heading)}", ""]
            entries = view.field(number)
            if not entries:
                lines += [messages.plain("md_empty"), ""]
                continue
            for kind in (Kind.IST, Kind.SOLL):
                for entry in view.field(number, kind):
                    stamp = entry.created_at.strftime("%Y-%m-%d %H:%M UTC")
                    label = messages.plain("kind_" + kind.value)
                    lines.append(
                        f"- **{_md_escape(label)}** · {_md_escape(entry.author_name)} · {stamp}"
                    )
                    lines.append("")
                    lines += [f"  > {_md_escape(part)}" for part in entry.text.split("\n")]
                    lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True)
class MarkdownEntry:
    point: int
    kind: str
    author: str
    text: str


def parse_markdown(markdown: str, model: ModelText, messages: Messages) -> list[MarkdownEntry]:
    """Read the entries back from `board_markdown` output (for checks and re-import)."""
    headings = {f"### {_md_escape(p.heading)}": p.number for p in model.points}
    labels = {_md_escape(messages.plain("kind_" + k.value)): k.value for k in Kind}
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
            match = re.match(r"^- \*\*(.+?)\*\* · (.*) · [0-9-]+ [0-9:]+ UTC$", line)
            if match is not None and match.group(1) in labels:
                current = {"kind": labels[match.group(1)], "author": _md_unescape(match.group(2))}
        elif current is not None and line.startswith("  >"):
            quoted.append(_md_unescape(line[4:] if line.startswith("  > ") else line[3:]))
    flush()
    return found
