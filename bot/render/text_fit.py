"""Fitting text into a drawn box: measuring, wrapping, shortening with a mark, sharing room."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from PIL import ImageFont

from bot.unitext import safe_text

FONT_DIR = Path(str(files("bot.render") / "fonts"))


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans (umlauts and ß included), never a font of the host."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size)


def drawable(text: str) -> str:
    """Text the font engine can lay out: every line or paragraph separator a line break, open
    bidi controls closed, other control characters spaces."""
    text = safe_text(text)
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs") else " " for ch in text
    )


@lru_cache(maxsize=8192)
def _length(size: int, bold: bool, text: str) -> float:
    return font(size, bold).getlength(text)


@dataclass(frozen=True)
class Pen:
    """A font size and weight, measured in 1× units whatever scale the image is drawn at."""

    size: int
    bold: bool = False
    scale: int = 1

    def width(self, text: str) -> float:
        size = self.size * self.scale
        if len(text) <= 40:  # words repeat; long lines and prefixes do not
            return _length(size, self.bold, text) / self.scale
        return font(size, self.bold).getlength(text) / self.scale

    def fits(self, text: str, width: float) -> bool:
        return self.width(text) <= width

    def longest_prefix(self, text: str, width: float, suffix: str = "") -> int:
        """How many leading characters of `text` (plus `suffix`) fit into `width`."""
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.fits(text[:middle] + suffix, width):
                low = middle
            else:
                high = middle - 1
        return low

    def ellipsize(self, text: str, width: float) -> str:
        """One line, ending in "…" where it had to be cut."""
        text = drawable(text).replace("\n", " ")
        if self.fits(text, width):
            return text
        return text[: self.longest_prefix(text, width, "…")] + "…"


def wrap(text: str, pen: Pen, width: float, max_lines: int | None = 40) -> list[str]:
    """Break text into lines no wider than `width`; long words are split across lines.

    With `max_lines`, stop once more lines than that exist (the caller shortens and says so).
    A line's width is first estimated from its words' widths; only a line near the limit is
    measured as a whole (kerning across words), which keeps 500 entries fast.
    """
    lines: list[str] = []
    space = pen.width(" ")

    def full() -> bool:
        return max_lines is not None and len(lines) > max_lines

    for paragraph in drawable(text).split("\n"):
        line, used = "", 0.0
        for word in paragraph.split(" "):
            word_width = pen.width(word)
            estimate = used + space + word_width if line else word_width
            candidate = f"{line} {word}" if line else word
            if estimate <= width - 4 or pen.fits(candidate, width):
                line, used = candidate, estimate
                continue
            if line:
                lines.append(line)
            while word and not pen.fits(word, width):
                cut = max(1, pen.longest_prefix(word, width))
                lines.append(word[:cut])
                word = word[cut:]
                if full():
                    return lines
            line, used = word, pen.width(word)
            if full():
                return lines
        lines.append(line)
        if full():
            return lines
    return lines


def share(needs: list[int], room: int) -> list[int]:
    """Give each claim what it needs, the larger ones an equal share of what is left."""
    given = [0] * len(needs)
    left = max(0, room)
    order = sorted(range(len(needs)), key=lambda i: needs[i])
    for position, index in enumerate(order):
        fair = left // (len(needs) - position)
        given[index] = min(needs[index], fair)
        left -= given[index]
    return given
