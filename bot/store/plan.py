"""The plan (SPEC §10): measures follow the board's live Soll entries. `sync_measures` makes one
for each new Soll entry and marks those whose entry was undone, edited into an Ist entry or
erased as gone (kept, so their numbers are never given again). A measure's text and point are
its entry's."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from bot.model.entry_text import Kind
from bot.model.plan import MeasureView, Owner, Status
from bot.store.erasure import board_eraser, person_eraser
from bot.store.tables import Board, Entry, Measure, utcnow


def sync_measures(session: Session, *, board: Board, proposed_steps: Mapping[int, int]) -> int:
    """Bring the board's measures in line with its live Soll entries; how many rows changed.

    A new measure gets the next number of the board (never one given before) and the action
    step the model proposes for its point (`proposed_steps`, point → step).
    """
    assert board.id is not None
    live = session.exec(
        select(Entry.id, Entry.point)
        .where(
            Entry.board_id == board.id,
            Entry.kind == Kind.SOLL.value,
            col(Entry.removed_at).is_(None),
        )
        .order_by(col(Entry.created_at), col(Entry.id))
    ).all()
    live_ids = {entry_id for entry_id, _ in live}
    measures = session.exec(select(Measure).where(Measure.board_id == board.id)).all()
    by_entry = {m.entry_id: m for m in measures if m.entry_id is not None}
    now = utcnow()
    changed = 0
    for measure in measures:
        alive = measure.entry_id is not None and measure.entry_id in live_ids
        if alive == (measure.gone_at is None):
            continue
        measure.gone_at = None if alive else now
        measure.updated_at = now
        changed += 1
    number = max((m.number for m in measures), default=0)
    for entry_id, point in live:
        if entry_id in by_entry:
            continue
        number += 1
        session.add(
            Measure(
                board_id=board.id,
                entry_id=entry_id,
                number=number,
                step=proposed_steps.get(point),
                status=Status.OPEN.value,
                created_at=now,
                updated_at=now,
            )
        )
        changed += 1
    if changed:
        session.flush()
    return changed


def _owner_of(measure: Measure) -> Owner | None:
    if not measure.owner_name and not measure.owner_username:
        return None
    return Owner(measure.owner_name, measure.owner_username, measure.owner_id)


def _measure_view(measure: Measure, entry: Entry) -> MeasureView:
    return MeasureView(
        number=measure.number,
        point=entry.point,
        text=entry.text,
        step=measure.step,
        owner=_owner_of(measure),
        due=measure.due_on,
        status=Status(measure.status),
    )


def plan_measures(session: Session, *, board: Board) -> list[MeasureView]:
    """The board's live measures in number order: as last synchronised, less those whose Soll
    entry was undone or edited into an Ist since (the digest reads without synchronising)."""
    assert board.id is not None
    rows = session.exec(
        select(Measure, Entry)
        .join(Entry, col(Entry.id) == col(Measure.entry_id))
        .where(
            Measure.board_id == board.id,
            col(Measure.gone_at).is_(None),
            col(Entry.removed_at).is_(None),
            Entry.kind == Kind.SOLL.value,
        )
        .order_by(col(Measure.number))
    ).all()
    return [_measure_view(measure, entry) for measure, entry in rows]


def measure_by_number(session: Session, *, board: Board, number: int) -> Measure | None:
    """A live measure of the board by its number."""
    return session.exec(
        select(Measure).where(
            Measure.board_id == board.id,
            Measure.number == number,
            col(Measure.gone_at).is_(None),
        )
    ).first()


def set_measure_owner(session: Session, *, measure: Measure, owner: Owner | None) -> None:
    """Give the measure an owner (None: nobody)."""
    measure.owner_name = owner.name if owner else None
    measure.owner_username = owner.username if owner else None
    measure.owner_id = owner.person_id if owner else None
    measure.updated_at = utcnow()
    session.add(measure)


def set_measure_due(session: Session, *, measure: Measure, due: date | None) -> None:
    measure.due_on = due
    measure.updated_at = utcnow()
    session.add(measure)


def set_measure_step(session: Session, *, measure: Measure, step: int | None) -> None:
    measure.step = step
    measure.updated_at = utcnow()
    session.add(measure)


def set_measure_status(session: Session, *, measure: Measure, status: Status) -> None:
    measure.status = status.value
    measure.updated_at = utcnow()
    session.add(measure)


def measures_due_between(
    session: Session, *, first: date, last: date
) -> list[tuple[Board, MeasureView]]:
    """Live measures not done, due from `first` to `last` (inclusive), on any board; by the
    index on `due_on`. For the day-before follow-up."""
    rows = session.exec(
        select(Measure, Entry, Board)
        .join(Entry, col(Entry.id) == col(Measure.entry_id))
        .join(Board, col(Board.id) == col(Measure.board_id))
        .where(
            col(Measure.due_on) >= first,
            col(Measure.due_on) <= last,
            col(Measure.gone_at).is_(None),
            Measure.status != Status.DONE.value,
            col(Entry.removed_at).is_(None),
            Entry.kind == Kind.SOLL.value,
        )
        .order_by(col(Measure.board_id), col(Measure.number))
    ).all()
    return [(board, _measure_view(measure, entry)) for measure, entry, board in rows]


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


def forget_owner_username(session: Session, *, username: str) -> dict[int, int]:
    """Measures whose owner was given as this @username lose their owner (an owner named by
    username has no person id to find them by); counts per board."""
    counts: dict[int, int] = {}
    owned = session.exec(
        select(Measure).where(func.lower(Measure.owner_username) == username.casefold())
    ).all()
    for measure in owned:
        set_measure_owner(session, measure=measure, owner=None)
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    return counts


def _folded(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def forget_owner_names(session: Session, *, names: Iterable[str]) -> dict[int, int]:
    """Measures whose owner was typed as free text equal to one of the person's names (first
    name, full name) lose their owner; counts per board."""
    wanted = {_folded(name) for name in names if name and name.strip()}
    if not wanted:
        return {}
    counts: dict[int, int] = {}
    named = session.exec(
        select(Measure).where(col(Measure.owner_name).is_not(None), col(Measure.owner_id).is_(None))
    ).all()
    for measure in named:
        if measure.owner_name is None or _folded(measure.owner_name) not in wanted:
            continue
        measure.owner_name = None
        measure.owner_username = None
        session.add(measure)
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    return counts


@board_eraser("plan")
def erase_board_measures(session: Session, board_id: int) -> int:
    """Delete every measure of a board (before the board goes)."""
    result = session.execute(delete(Measure).where(col(Measure.board_id) == board_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


@person_eraser("plan")
def forget_measure_owner(session: Session, person_id: int) -> dict[int, int]:
    """Measures this person owns lose their owner; measures made from their entries are gone
    (their rows stay, without the entry, so the numbers are not given again)."""
    counts: dict[int, int] = {}
    owned = session.exec(select(Measure).where(Measure.owner_id == person_id)).all()
    for measure in owned:
        set_measure_owner(session, measure=measure, owner=None)
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    authored = session.exec(
        select(Measure)
        .join(Entry, col(Entry.id) == col(Measure.entry_id))
        .where(Entry.author_id == person_id)
    ).all()
    now = utcnow()
    for measure in authored:
        measure.entry_id = None
        measure.gone_at = measure.gone_at or now
        measure.updated_at = now
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    session.flush()
    return counts
