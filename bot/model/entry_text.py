"""Reading a person's text as an Ist or Soll entry (SPEC §4)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Which side of a field an entry describes."""

    IST = "ist"
    SOLL = "soll"


_PREFIX = re.compile(r"^\s*(soll|ziel|target|ist|current)\s*:", re.IGNORECASE)
_SOLL_WORDS = {"soll", "ziel", "target"}


@dataclass(frozen=True)
class EntryText:
    kind: Kind
    text: str


def parse_entry(raw: str, default: Kind = Kind.IST) -> EntryText:
    """Split an optional `Soll:`/`Ziel:`/`Target:`/`Ist:`/`Current:` prefix off the text.

    The text that remains is kept exactly, minus surrounding white space and NUL characters
    (which no database text column takes); it may be empty — also when nothing of it is
    visible (only zero-width or direction marks) —, which the caller must refuse.
    """
    raw = raw.replace("\x00", "")
    match = _PREFIX.match(raw)
    if match is None:
        return EntryText(default, _seen(raw.strip()))
    kind = Kind.SOLL if match.group(1).lower() in _SOLL_WORDS else Kind.IST
    return EntryText(kind, _seen(raw[match.end() :].strip()))


def has_prefix(raw: str) -> bool:
    """Whether the text starts with an entry prefix (`Ist:`, `Soll:`, `Ziel:` …): meant as an
    entry."""
    return _PREFIX.match(raw.replace("\x00", "")) is not None


def _seen(text: str) -> str:
    """The text, or "" when a reader would see nothing of it: only spaces, control and format
    characters (zero-width space, direction marks …)."""
    return text if any(unicodedata.category(ch)[0] not in "ZC" for ch in text) else ""


_FIRST_WORD = re.compile(r"^\s*(\S+)(.*)$", re.DOTALL)
# a point number as people write it: "4", "4.", "4:", "4)"
_NUMBER = re.compile(r"^([+-]?[0-9]+)[.:)]?$")


@dataclass(frozen=True)
class CommandEntry:
    """`/ist [n] <text>` split into the optional point number and the text."""

    point: int | None
    text: str


class PointOutOfRange(ValueError):
    """The first word was a number, but no point 1–20."""

    def __init__(self, given: str) -> None:
        super().__init__(given)
        self.given = given


def parse_command_entry(arguments: str, point_count: int = 20) -> CommandEntry:
    """Read the arguments of `/ist` or `/soll`; a leading number must name a point."""
    arguments = arguments.replace("\x00", "")
    match = _FIRST_WORD.match(arguments)
    if match is None:
        return CommandEntry(None, "")
    first, rest = match.group(1), match.group(2)
    number = _NUMBER.fullmatch(first)
    if number:
        if not 1 <= int(number.group(1)) <= point_count:
            raise PointOutOfRange(first)
        return CommandEntry(int(number.group(1)), _seen(rest.strip()))
    return CommandEntry(None, _seen(arguments.strip()))


# direction overrides and isolates: one left open in a title turns every sentence quoting it
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def clean_title(raw: str, limit: int) -> str | None:
    """A board title on one line without control characters and direction overrides; None if
    nothing of it is visible, or it is too long."""
    printable = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch for ch in raw if ch not in _BIDI_CONTROLS
    )
    title = " ".join(printable.split())
    if not _seen(title) or len(title) > limit:
        return None
    return title
