"""Voting on the plan (SPEC §15): which open measures go into which poll, how an option is cut
to Telegram's length, how many picks are sensible, how long a vote runs and how the result is
ordered.

Pure: no Telegram, no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

POLL_OPTIONS = 12  # Telegram: a poll has 1–12 options
OPTION_LIMIT = 100  # Telegram: an option's text is 1–100 characters
QUESTION_LIMIT = 300  # Telegram: a poll's question is 1–300 characters
DEFAULT_HOURS = 48
MAX_HOURS = 30 * 24  # a vote of more than a month is no decision any more
STOP_WORDS = ("stop", "stopp", "ende", "end", "beenden", "schluss")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int, marker: str = "…") -> str:
    """`text` on one line, cut to `limit` UTF-16 units (with `marker` when cut); never splits a
    character (an emoji outside the BMP counts two)."""
    flat = re.sub(r"\s+", " ", text).strip()
    if utf16_length(flat) <= limit:
        return flat
    budget = limit - utf16_length(marker)
    used = 0
    kept: list[str] = []
    for char in flat:
        used += utf16_length(char)
        if used > budget:
            break
        kept.append(char)
    return "".join(kept).rstrip() + marker


def option_text(prefix: str, text: str, limit: int = OPTION_LIMIT) -> str:
    """An option: `prefix` (e.g. "Nr. 3 – ") and the measure's text, cut to fit `limit`."""
    head = cut(prefix, limit) if utf16_length(prefix) >= limit else prefix
    room = limit - utf16_length(head)
    if room <= 1:
        return cut(head, limit)
    return head + cut(text, room) if text.strip() else cut(head, limit)


def sensible_picks(options: int) -> int:
    """How many picks make a choice: about a third of the options, at least one."""
    return max(1, round(options / 3))


@dataclass(frozen=True)
class Group:
    """One poll's measures: their numbers in area order, from one or more areas."""

    areas: tuple[int, ...]
    numbers: tuple[int, ...]


def split_polls(
    by_area: Sequence[tuple[int, Sequence[int]]], limit: int = POLL_OPTIONS
) -> list[Group]:
    """The polls for the open measures, given per area (area number, measure numbers in area
    order): all in one poll when they fit, else neighbouring areas packed together up to
    `limit` options, and an area with more than `limit` measures in parts of nearly equal size."""
    areas = [(area, tuple(numbers)) for area, numbers in by_area if numbers]
    total = sum(len(numbers) for _, numbers in areas)
    if total == 0:
        return []
    if total <= limit:
        return [Group(tuple(a for a, _ in areas), tuple(n for _, ns in areas for n in ns))]
    groups: list[Group] = []
    current_areas: list[int] = []
    current: list[int] = []
    for area, numbers in areas:
        if len(numbers) > limit:
            if current:
                groups.append(Group(tuple(current_areas), tuple(current)))
                current_areas, current = [], []
            parts = -(-len(numbers) // limit)
            size = -(-len(numbers) // parts)
            for start in range(0, len(numbers), size):
                groups.append(Group((area,), numbers[start : start + size]))
            continue
        if len(current) + len(numbers) > limit:
            groups.append(Group(tuple(current_areas), tuple(current)))
            current_areas, current = [], []
        current_areas.append(area)
        current.extend(numbers)
    if current:
        groups.append(Group(tuple(current_areas), tuple(current)))
    return groups


def parse_hours(text: str) -> int | None:
    """A vote's duration in whole hours (`24`, `24h`, `24 h`, `2d`/`2t` for days), 1 to
    MAX_HOURS; None for anything else."""
    match = re.fullmatch(r"([0-9]{1,4})\s*([hdt]|std)?\.?", text.strip().casefold())
    if match is None:
        return None
    hours = int(match.group(1)) * (24 if match.group(2) in ("d", "t") else 1)
    return hours if 1 <= hours <= MAX_HOURS else None


def duration(hours: int) -> timedelta:
    return timedelta(hours=hours)


def is_stop(text: str) -> bool:
    """`/vote stop` (or `stopp`, `ende`, `end`, `beenden`)."""
    return text.strip().casefold() in STOP_WORDS


@dataclass(frozen=True)
class Ranked:
    """A measure in the result: its number and its votes."""

    number: int
    votes: int


def ranking(order: Sequence[int], votes: Mapping[int, int]) -> list[Ranked]:
    """The measures of `order` (area order) by votes, most first; ties keep area order."""
    position = {number: index for index, number in enumerate(order)}
    return sorted(
        (Ranked(number, votes.get(number, 0)) for number in order),
        key=lambda ranked: (-ranked.votes, position[ranked.number]),
    )
