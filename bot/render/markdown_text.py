"""A person's text in Markdown that reads as plain prose: only what would change meaning is escaped.

Escaped: a block marker at the start of a line (`#`, `>`, `-`, `+`, `*`, `=`, `~`, `1.`, `1)`, and
leading white space, which would make code), backticks, `*` and `_`/`~` where they could emphasise,
`[` before a later `]` (a link), `<` that could open a tag or autolink, `&` that could start an
entity, and every backslash. Within one line, line breaks that are not `\n` (`\x0b`, `\x1c` …)
become numeric character references, so an entry never leaves its quote; `quote_lines` first turns
every line or paragraph separator into "\n" and closes open bidi controls (`bot.unitext`).
`unescape_line` reverses `escape_line` exactly.
"""

from __future__ import annotations

import re

from bot.unitext import close_bidi, safe_text

_PUNCTUATION = r"!-/:-@\[-`{-~"
_BLOCK_START = re.compile(r"^([#>+*=~-]|\d{1,9}(?=[.)]))")
_LEADING_SPACE = re.compile(r"^[ \t]")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_TAG_LIKE = re.compile(r"<(?=[A-Za-z/!?])")
_TOKEN = re.compile(rf"\\([{_PUNCTUATION}])|&#(\d+);")
# Characters some reader treats as the end of a line (str.splitlines), other than "\n".
BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _flanking(text: str, index: int) -> bool:
    """Whether `_` or `~` at `index` touches a word boundary (where it could emphasise)."""
    before = text[index - 1] if index > 0 else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    return not (before.isalnum() and after.isalnum())


def escape_line(line: str, *, line_start: bool = True) -> str:
    """One line of a person's text, safe inside a Markdown paragraph or quote (a "\n" too);
    its open bidi controls closed."""
    line = close_bidi(line)
    shown: list[str] = []
    bracket_closes = [i for i, ch in enumerate(line) if ch == "]"]
    for index, char in enumerate(line):
        if char in BREAKS or char == "\n":
            shown.append(f"&#{ord(char)};")
        elif char == "\\":
            shown.append("\\\\")
        elif char in "`*" or (char in "_~" and _flanking(line, index)):
            shown.append("\\" + char)
        elif char == "[" and any(close > index for close in bracket_closes):
            shown.append("\\[")
        elif (char == "&" and _ENTITY_LIKE.match(line, index)) or (
            char == "<" and _TAG_LIKE.match(line, index)
        ):
            shown.append("\\" + char)
        else:
            shown.append(char)
    text = "".join(shown)
    if line_start:
        if _LEADING_SPACE.match(text):
            text = f"&#{ord(text[0])};{text[1:]}"
        else:
            marker = _BLOCK_START.match(text)
            if marker is not None:
                end = marker.end()
                if text[:1].isdigit():
                    text = f"{text[:end]}\\{text[end:]}"
                elif not text.startswith("\\"):
                    text = "\\" + text
    return text


def unescape_line(text: str) -> str:
    """The person's line back from `escape_line`."""

    def token(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        return chr(int(match.group(2)))

    return _TOKEN.sub(token, text)


def quote_lines(text: str) -> list[str]:
    """A person's text split into lines at every line or paragraph separator ("\r", U+2028,
    U+2029, U+0085 too), each line escaped, its open bidi controls closed."""
    return [escape_line(line) for line in safe_text(text).split("\n")]
