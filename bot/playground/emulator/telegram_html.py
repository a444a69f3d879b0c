"""Telegram's HTML parse mode, as strictly as the Bot API applies it."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
}
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*/?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class EntityError(ValueError):
    """Telegram's "can't parse entities" refusal."""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise EntityError(f'Unsupported start tag "{tag}"')
        if tag == "a" and not any(name == "href" for name, _ in attrs):
            raise EntityError("a tag without href")
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            raise EntityError('span without class="tg-spoiler"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise EntityError(f'Unmatched end tag "{tag}"')
        self.stack.pop()


def check_html(text: str) -> str:
    """Validate Telegram HTML; return the text as shown (tags removed, entities decoded)."""
    rest = _TAG.sub("", text)
    rest = _ENTITY.sub("", rest)
    for char in "<>&":
        if char in rest:
            raise EntityError(f"unescaped {char!r} outside a tag or entity")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"')
    return html.unescape(_TAG.sub("", text))


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
