"""The facilitator's overview (`/boards`, SPEC §11): one block per board, grouped by group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.model.board import AreaProgress, BoardStatus, BoardView, area_progress
from bot.model.catalogue import ModelText
from bot.render.progress import bar
from bot.render.when import local_time
from bot.texts import Html, Messages, escape

AREAS_PER_LINE = 3


def progress_bar(progress: AreaProgress) -> str:
    """`▰▰▰▱ 3/4`: filled points of an area."""
    return f"{bar(progress.filled, progress.total)} {progress.filled}/{progress.total}"


def area_lines(model: ModelText, view: BoardView) -> list[Html]:
    """Progress per area, e.g. `Kunde ▰▰▰▱ 3/4 · Differenzierung ▱ 0/1 · …`, three per line."""
    parts = [
        f"{escape(model.area(p.area).name)} {progress_bar(p)}" for p in area_progress(model, view)
    ]
    return [
        Html(" · ".join(parts[i : i + AREAS_PER_LINE]))
        for i in range(0, len(parts), AREAS_PER_LINE)
    ]


def board_block(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    *,
    zone: str,
    next_reminder: datetime | None,
    next_card: datetime | None,
) -> Html:
    """A board's title, state and progress, and (while open) its next reminder and autopilot card."""
    is_open = view.status == BoardStatus.OPEN
    filled = view.point_count - len(view.empty_points)
    lines: list[str] = [
        messages(
            "boards_board",
            title=view.title,
            state=messages("boards_open" if is_open else "boards_closed"),
            filled=filled,
            total=view.point_count,
        ),
        *area_lines(model, view),
    ]
    if is_open:
        lines.append(
            messages("boards_reminder", when=local_time(next_reminder, zone, messages.language))
            if next_reminder is not None
            else messages("boards_reminder_off")
        )
        if next_card is not None:
            when = local_time(next_card, zone, messages.language)
            lines.append(messages("boards_next_card", when=when))
    return Html("\n".join(lines))


def group_message(
    messages: Messages, group: str, blocks: Sequence[Html], *, header: Html | None = None
) -> Html:
    """One group's boards in one message (the overview's first message carries the header)."""
    parts: list[str] = [header] if header is not None else []
    parts.append(messages("boards_group", group=group))
    parts.extend(blocks)
    return Html("\n\n".join(parts))
