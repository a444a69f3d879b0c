"""Packing HTML blocks into as few Telegram messages as possible, each within the limit."""

from __future__ import annotations

from collections.abc import Iterable

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
