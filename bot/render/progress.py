"""The live status message of a board: progress per area at a glance (`Kunde ▰▰▰▱ 3/4`)."""

from __future__ import annotations

import hashlib

from bot.model.board import BoardStatus, BoardView, area_progress
from bot.model.catalogue import ModelText
from bot.texts import Html, Messages

FILLED = "▰"
EMPTY = "▱"


def bar(filled: int, total: int) -> str:
    """One mark per point of the area: filled ones first."""
    return FILLED * filled + EMPTY * (total - filled)


def progress_message(model: ModelText, messages: Messages, view: BoardView) -> Html:
    """Title with the filled count, one line per area with its bar, the entry counts."""
    filled = view.point_count - len(view.empty_points)
    lines: list[str] = [
        messages("progress_title", title=view.title, filled=filled, total=view.point_count)
    ]
    if view.status == BoardStatus.CLOSED:
        lines.append(messages("progress_closed"))
    lines.append("")
    for progress in area_progress(model, view):
        area = model.area(progress.area)
        lines.append(
            messages(
                "progress_area",
                name=area.name,
                bar=bar(progress.filled, progress.total),
                filled=progress.filled,
                total=progress.total,
            )
        )
    lines.append("")
    lines.append(
        messages("progress_counts", entries=len(view.entries), contributors=view.contributors)
    )
    if view.status == BoardStatus.OPEN:
        lines.append(messages("progress_hint"))
    return Html("\n".join(lines))


def digest(text: str) -> str:
    """A short digest of a message's text, to tell whether an edit would change anything."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
