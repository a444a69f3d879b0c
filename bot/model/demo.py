"""The demo board: every point filled from the source's bicycle-trade example."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind

DEMO_AUTHORS = ("Anna", "Ben", "Carla", "Deniz")
DEMO_START = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
_SOLL_SPLIT = re.compile(r"\s*\b(?:Soll|Target):\s*")
_IST_PREFIX = re.compile(r"^\s*(?:Ist|Current):\s*")


def example_parts(example: str) -> tuple[str, str | None]:
    """Split a worked example into its Ist part and (if any) its Soll part."""
    parts = _SOLL_SPLIT.split(example, maxsplit=1)
    ist = _IST_PREFIX.sub("", parts[0]).strip()
    soll = parts[1].strip() if len(parts) > 1 else None
    return ist, soll


def demo_board(model: ModelText, title: str, language: str) -> BoardView:
    """A complete board with an Ist (and where the example has one, a Soll) entry per point."""
    entries: list[EntryView] = []
    moment = DEMO_START
    for point in model.points:
        ist, soll = example_parts(point.example)
        for kind, text in ((Kind.IST, ist), (Kind.SOLL, soll)):
            if not text:
                continue
            author = DEMO_AUTHORS[len(entries) % len(DEMO_AUTHORS)]
            entries.append(
                EntryView(
                    id=len(entries) + 1,
                    point=point.number,
                    kind=kind,
                    text=text,
                    author_id=1000 + DEMO_AUTHORS.index(author),
                    author_name=author,
                    created_at=moment,
                )
            )
            moment += timedelta(minutes=37)
    return BoardView(
        id=0,
        title=title,
        language=language,
        status=BoardStatus.OPEN,
        created_at=DEMO_START,
        entries=tuple(entries),
    )
