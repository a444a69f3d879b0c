"""A person's text made safe for every output: one kind of line break, no open bidi controls.

Word processors and some keyboards paste U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR or
U+0085 NEXT LINE where a line break is meant; each output (image, PDF, Markdown, JSON, Telegram
HTML) shows them as the line break "\\n" (Pillow's text layout even fails on U+2029).

Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) that a text
opens are closed at the end of each of its lines, so a name with U+202E RIGHT-TO-LEFT OVERRIDE
cannot reverse the sentence it is shown in; closers without an opener are dropped.
"""

from __future__ import annotations

_BREAKS = str.maketrans({"\r": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})
_EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")  # LRE RLE LRO RLO, closed by PDF
_ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI RLI FSI, closed by PDI
_PDF = "\u202c"
_PDI = "\u2069"
BIDI_CONTROLS = frozenset(_EMBEDDINGS | _ISOLATES | {_PDF, _PDI})


def unify_breaks(text: str) -> str:
    """Every line or paragraph separator ("\\r\\n", "\\r", U+0085, U+2028, U+2029) as "\\n"."""
    return text.replace("\r\n", "\n").translate(_BREAKS)


def _close_line(line: str) -> str:
    if not any(ch in BIDI_CONTROLS for ch in line):
        return line
    shown: list[str] = []
    stack: list[str] = []  # what each open control waits for: PDF or PDI
    for char in line:
        if char in _EMBEDDINGS:
            stack.append(_PDF)
        elif char in _ISOLATES:
            stack.append(_PDI)
        elif char == _PDF:
            if not stack or stack[-1] != _PDF:
                continue  # closes nothing of this text (or would cross an isolate)
            stack.pop()
        elif char == _PDI:
            if _PDI not in stack:
                continue
            while stack.pop() != _PDI:  # a PDI closes the embeddings opened inside it too
                shown.append(_PDF)
        shown.append(char)
    shown.extend(reversed(stack))
    return "".join(shown)


def close_bidi(text: str) -> str:
    """Each line's open bidi embeddings, overrides and isolates closed at its end."""
    if not any(ch in BIDI_CONTROLS for ch in text):
        return text
    return "\n".join(_close_line(line) for line in text.split("\n"))


def safe_text(text: str) -> str:
    """A person's text as every output shows it: breaks unified, bidi controls closed."""
    return close_bidi(unify_breaks(text))


def safe_line(text: str) -> str:
    """A person's one-line text (a name, a title): breaks as spaces, bidi controls closed."""
    return close_bidi(unify_breaks(text).replace("\n", " "))
