"""The demo board: every point filled from the worked example of the source's bicycle trade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.model.board import BoardStatus, BoardView, EntryView
from bot.model.catalogue import ExamplePart, ModelText
from bot.model.entry_text import Kind

DEMO_AUTHORS = ("Anna", "Ben", "Carla", "Deniz")
DEMO_START = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def example_entry_text(model: ModelText, part: ExamplePart) -> str:
    """A part as an entry: the project's own illustration says so in its first words."""
    if part.from_source:
        return part.text
    return f"{model.source.own_illustration} {part.text}"


def demo_board(model: ModelText, title: str, language: str) -> BoardView:
    """A complete board: per point an Ist entry and, where the example has one, a Soll entry."""
    entries: list[EntryView] = []
    moment = DEMO_START
    for point in model.points:
        for part in point.example:
            author = DEMO_AUTHORS[len(entries) % len(DEMO_AUTHORS)]
            entries.append(
                EntryView(
                    id=len(entries) + 1,
                    point=point.number,
                    kind=Kind(part.kind),
                    text=example_entry_text(model, part),
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
