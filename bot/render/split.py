"""Packing HTML blocks into as few Telegram messages as possible, each within the limit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.texts import Html, escape

MESSAGE_LIMIT = 4096


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); the HTML source bounds the shown text."""
    return len(text.encode("utf-16-le")) // 2


def split_plain(text: str, budget: int) -> list[str]:
    """Cut a person's text into pieces whose escaped form fits `budget`, preferring white space."""
    pieces: list[str] = []
    rest = text
    while telegram_length(escape(rest)) > budget:
        cut = _cut_index(rest, budget)
        space = rest.rfind(" ", cut // 2, cut)
        if space > 0:
            cut = space + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def shorten_plain(text: str, budget: int, marker: str = "…") -> Html:
    """A person's text escaped and cut to `budget` (with `marker` when cut)."""
    if telegram_length(escape(text)) <= budget:
        return escape(text)
    kept = text[: _cut_index(text, budget - telegram_length(marker))]
    return Html(escape(kept) + marker)


def _cut_index(text: str, budget: int) -> int:
    used = 0
    for index, char in enumerate(text):
        used += telegram_length(escape(char))
        if used > budget:
            return max(index, 1)
    return len(text)


def pack(blocks: Iterable[Html], limit: int = MESSAGE_LIMIT) -> list[Html]:
    """Join blocks with newlines into as few messages as possible, keeping blocks whole.

    Every block must already fit the limit on its own.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        if telegram_length(block) > limit:
            raise ValueError("block exceeds the message limit")
        candidate = f"{current}\n{block}" if current else block
        if telegram_length(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return [Html(m) for m in messages]


@dataclass(frozen=True)
class Line:
    """One line of a long text; a heading announces what follows and never ends a message."""

    html: Html
    heading: bool = False


def glue(lines: Sequence[Line]) -> list[Html]:
    """Join every heading to the line after it, so the pieces never end with a heading."""
    pieces: list[Html] = []
    pending: list[str] = []
    for line in lines:
        pending.append(line.html)
        if not line.heading:
            pieces.append(Html("\n".join(pending)))
            pending = []
    if pending:
        pieces.append(Html("\n".join(pending)))
    return pieces


def pack_sections(sections: Iterable[Sequence[Line]], limit: int = MESSAGE_LIMIT) -> list[Html]:
    """Pack sections (a point with its headings) whole where they fit, else line by line.

    Every heading travels with the line after it; each such piece must fit the limit.
    """
    units: list[Html] = []
    for section in sections:
        pieces = glue(section)
        whole = Html("\n".join(pieces))
        units.extend([whole] if telegram_length(whole) <= limit else pieces)
    return pack(units, limit)
