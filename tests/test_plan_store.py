"""Measures in the store (SQLite and PostgreSQL): synchronised from Soll entries, numbers never
reused, erased with the board, owners forgotten; the plan's digest and /status lines."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from bot.handlers.plan import (
    RANGES_SHOWN,
    _number_ranges,
    plan_digest,
    plan_rows,
    plan_status,
)
from bot.model.catalogue import load_catalogue
from bot.model.entry_text import Kind
from bot.model.plan import Owner, Status, step_proposals
from bot.store import boards as board_store
from bot.store import entries as entry_store
from bot.store import plan as plan_store
from bot.store.erasure import erase_board, erase_person
from bot.store.tables import Board, Entry, Measure
from bot.texts import load_texts
from tests.scenario import plain

MODEL = load_catalogue()["de"]
DE = load_texts()["de"]
PROPOSALS = step_proposals(MODEL.action_steps)
CHAT = -100_777_000_000_1
CARLA = 7_700_000_321
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _board(session: Session) -> Board:
    return board_store.create_board(
        session,
        chat_id=CHAT,
        thread_id=0,
        title="Plan",
        language="de",
        created_by=1,
        timezone="Europe/Berlin",
        next_reminder_at=None,
    )


def _entry(session: Session, board: Board, message_id: int, point: int, kind: Kind) -> Entry:
    saved = entry_store.add_entry(
        session,
        board=board_store.board_head(board),
        point=point,
        kind=kind,
        text=f"Eintrag {message_id}",
        author_id=CARLA if message_id == 3 else 1,
        author_name="Carla" if message_id == 3 else "Anna",
        chat_id=CHAT,
        message_id=message_id,
    )
    entry = session.get(Entry, saved.entry_id)
    assert entry is not None
    return entry


def test_measures_follow_the_soll_entries(engine: Engine) -> None:
    with Session(engine) as session:
        board = _board(session)
        _entry(session, board, 1, 1, Kind.SOLL)
        _entry(session, board, 2, 2, Kind.IST)
        _entry(session, board, 3, 6, Kind.SOLL)
        assert plan_store.sync_measures(session, board=board, proposed_steps=PROPOSALS) == 2
        assert plan_store.sync_measures(session, board=board, proposed_steps=PROPOSALS) == 0
        plan = plan_store.plan_measures(session, board=board)
        assert [(m.number, m.point, m.step, m.status) for m in plan] == [
            (1, 1, PROPOSALS[1], Status.OPEN),
            (2, 6, PROPOSALS[6], Status.OPEN),
        ]
        # Carla undoes her Soll entry: measure 2 is gone; a new Soll gets 3, not 2
        entry_store.undo_last(session, board=board, author_id=CARLA)
        # (read before the next synchronisation, as the digest does: already gone)
        assert [m.number for m in plan_store.plan_measures(session, board=board)] == [1]
        _entry(session, board, 4, 17, Kind.SOLL)
        plan_store.sync_measures(session, board=board, proposed_steps=PROPOSALS)
        assert [m.number for m in plan_store.plan_measures(session, board=board)] == [1, 3]
        assert plan_store.measure_by_number(session, board=board, number=2) is None
        session.commit()


def test_erasers_forget_owners_and_delete_with_the_board(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        _entry(session, board, 1, 1, Kind.SOLL)
        _entry(session, board, 3, 6, Kind.SOLL)  # Carla's
        plan_store.sync_measures(session, board=board, proposed_steps=PROPOSALS)
        first = plan_store.measure_by_number(session, board=board, number=1)
        assert first is not None
        plan_store.set_measure_owner(
            session, measure=first, owner=Owner(name="Carla", person_id=CARLA)
        )
        session.commit()
        assert board.id is not None
        counts = erase_person(session, CARLA)
        assert counts["plan"] == {board.id: 2}
        # the core eraser deletes Carla's entries; the measure keeps its number, gone
        session.execute(delete(Entry).where(col(Entry.author_id) == CARLA))
        session.commit()
        measures = session.exec(select(Measure).order_by(col(Measure.number))).all()
        assert [(m.number, m.owner_name, m.owner_id) for m in measures] == [
            (1, None, None),
            (2, None, None),
        ]
        assert measures[1].entry_id is None
        assert measures[1].gone_at is not None
        plan_store.sync_measures(session, board=board, proposed_steps=PROPOSALS)
        assert [m.number for m in plan_store.plan_measures(session, board=board)] == [1]
        assert erase_board(session, board.id)["plan"] == 2
        assert session.exec(select(Measure)).all() == []
        session.commit()


def test_digest_status_and_rows(engine: Engine) -> None:
    with Session(engine) as session:
        board = _board(session)
        for message_id, point in ((1, 1), (2, 2), (4, 5)):
            _entry(session, board, message_id, point, Kind.SOLL)
        plan_store.sync_measures(session, board=board, proposed_steps=PROPOSALS)
        due = {1: date(2026, 11, 30), 2: date(2026, 11, 20), 3: date(2026, 12, 10)}
        for number, day in due.items():
            measure = plan_store.measure_by_number(session, board=board, number=number)
            assert measure is not None
            plan_store.set_measure_due(session, measure=measure, due=day)
        digest = [plain(line) for line in plan_digest(session, board, DE, MODEL, NOW)]
        assert digest[0] == "Maßnahmen fällig in den nächsten 7 Tagen (1):"
        assert digest[1].startswith("• Nr. 1 (Punkt 1): Eintrag 1")
        assert digest[2] == "Überfällige Maßnahmen (1):"
        assert "Nr. 2" in digest[3]
        status = [plain(line) for line in plan_status(session, board, DE, MODEL, NOW)]
        assert status == [
            "📋 Maßnahmenplan: 3 Maßnahmen · 3 ohne Verantwortliche · 1 überfällig · "
            "0 erledigt (/plan)"
        ]
        rows = plan_rows(session, board, DE, MODEL)
        assert [(r.number, r.point, r.due, r.status) for r in rows] == [
            (1, 1, date(2026, 11, 30), "offen"),
            (2, 2, date(2026, 11, 20), "offen"),
            (3, 5, date(2026, 12, 10), "offen"),
        ]
        session.commit()


def test_an_unknown_measure_number_is_answered_with_a_short_list() -> None:
    assert _number_ranges([1, 2, 3, 4, 7, 9, 10, 11, 12]) == "1–4, 7, 9–12"
    many = _number_ranges(list(range(1, 2000, 2)))  # a thousand runs, each one number
    assert many.endswith(", …")
    assert many.count(",") == RANGES_SHOWN
