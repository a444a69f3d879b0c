"""Queries of the plan-only digest (SPEC §7): the measures done since the last digest."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.model.entry_text import Kind
from bot.model.plan import Status
from bot.store.tables import Entry, Measure


def measures_done_since(
    session: Session, *, board_id: int, since: datetime
) -> list[tuple[int, int, str]]:
    """Live measures marked done whose last change came after `since`: (number, point, text),
    in number order."""
    rows = session.exec(
        select(Measure.number, Entry.point, Entry.text)
        .join(Entry, col(Entry.id) == col(Measure.entry_id))
        .where(
            Measure.board_id == board_id,
            Measure.status == Status.DONE.value,
            col(Measure.gone_at).is_(None),
            col(Measure.updated_at) >= since,
            col(Entry.removed_at).is_(None),
            Entry.kind == Kind.SOLL.value,
        )
        .order_by(col(Measure.number))
    ).all()
    return [(number, point, text) for number, point, text in rows]
