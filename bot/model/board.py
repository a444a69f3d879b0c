"""Board rules on a snapshot of entries: completeness, empty fields, the next point."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind


class BoardStatus(StrEnum):
    """A board is open for entries until a moderator closes it."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class BoardHead:
    """What an entry needs to know of its board (read without loading the whole row)."""

    id: int
    title: str
    language: str
    status: BoardStatus
    complete: bool  # every point has an Ist entry (completed_at is set)


@dataclass(frozen=True)
class EntryView:
    """What the rules and renderers need to know about one live entry."""

    id: int
    point: int
    kind: Kind
    text: str
    author_id: int
    author_name: str
    created_at: datetime
    edited_at: datetime | None = None


@dataclass(frozen=True)
class BoardView:
    """A board with its live entries, in the order they were made."""

    id: int
    title: str
    language: str
    status: BoardStatus
    created_at: datetime
    entries: tuple[EntryView, ...]
    point_count: int = 20
    _by_point: dict[int, list[EntryView]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for number in range(1, self.point_count + 1):
            self._by_point[number] = []
        for entry in self.entries:
            self._by_point.setdefault(entry.point, []).append(entry)

    def fingerprint(self) -> str:
        """Changes whenever anything shown of the board changes."""
        digest = hashlib.sha256(repr((self.title, self.status, self.language)).encode())
        for e in self.entries:
            digest.update(repr((e.id, e.point, e.kind, e.text, e.author_name)).encode())
        return digest.hexdigest()[:32]

    def field(self, point: int, kind: Kind | None = None) -> list[EntryView]:
        """The entries of one field, optionally only Ist or only Soll."""
        entries = self._by_point.get(point, [])
        return [e for e in entries if kind is None or e.kind == kind]

    @property
    def empty_points(self) -> list[int]:
        """Points without any Ist entry: the board is not complete while there are any."""
        return [p for p in range(1, self.point_count + 1) if not self.field(p, Kind.IST)]

    @property
    def points_without_soll(self) -> list[int]:
        return [p for p in range(1, self.point_count + 1) if not self.field(p, Kind.SOLL)]

    @property
    def is_complete(self) -> bool:
        return not self.empty_points

    @property
    def contributors(self) -> int:
        return len({e.author_id for e in self.entries})


@dataclass(frozen=True)
class NextStep:
    """Where `/next` leads: a point, and whether that means opening another area (and whether
    the area left behind has an Ist entry at every point)."""

    point: int
    area: int
    opens_area: bool
    left_area_filled: bool = True


def next_step(
    model: ModelText, board: BoardView, current_area: int | None, current_point: int | None
) -> NextStep | None:
    """The next point of the current area; after its last point, the next point without an Ist
    entry in model order, wrapping to the start — the current area's own gaps included.

    Returns None when after the area's last point no point is without an Ist entry.
    """
    if current_area is not None:
        points = model.area(current_area).points
        if current_point in points:
            index = points.index(current_point)
            if index + 1 < len(points):
                return NextStep(points[index + 1], current_area, opens_area=False)
        elif current_point is None:
            return NextStep(points[0], current_area, opens_area=False)
    empty = set(board.empty_points)
    order = [p for area in model.areas for p in area.points]
    after = current_point if current_point in order else None
    if after is None and current_area is not None:
        after = model.area(current_area).points[-1]
    start = order.index(after) + 1 if after is not None else 0
    for point in order[start:] + order[:start]:
        if point in empty:
            area = model.area_of(point).number
            left_filled = current_area is not None and not empty.intersection(
                model.area(current_area).points
            )
            return NextStep(point, area, area != current_area, left_area_filled=left_filled)
    return None


@dataclass(frozen=True)
class AreaProgress:
    area: int
    filled: int
    total: int


def area_progress(model: ModelText, board: BoardView) -> list[AreaProgress]:
    """Filled points (with an Ist entry) per area, in model order."""
    empty = set(board.empty_points)
    return [
        AreaProgress(a.number, sum(1 for p in a.points if p not in empty), len(a.points))
        for a in model.areas
    ]
