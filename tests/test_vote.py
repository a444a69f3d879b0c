"""Voting on the plan (SPEC §15) below the update path: polls split by area and cut to
Telegram's limits, the sensible number of picks, the result's order; the store (one running
vote per board, each person's current choice, the end claimed once, erasers); the plan's
renderings with votes."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.handlers.vote import result_text, votes_digest
from bot.model.catalogue import load_catalogue
from bot.model.demo import demo_board
from bot.model.entry_text import Kind
from bot.model.plan import MeasureView, Status, step_proposals
from bot.model.plan_rows import PlanRow
from bot.model.vote import (
    OPTION_LIMIT,
    POLL_OPTIONS,
    cut,
    option_text,
    parse_hours,
    ranking,
    sensible_picks,
    split_polls,
    utf16_length,
)
from bot.render.files import board_json, board_markdown
from bot.render.plan import Grouping, plan_json, plan_markdown, plan_pages
from bot.render.report import render_pdf
from bot.store import boards as board_store
from bot.store import entries as entry_store
from bot.store import plan as plan_store
from bot.store import votes
from bot.store.erasure import erase_board, erase_person
from bot.store.tables import Board, Vote, VoteBallot, VotePoll
from bot.texts import load_texts

MODEL = load_catalogue()["de"]
DE = load_texts()["de"]
EN = load_texts()["en"]
CHAT = -100_888_000_000_1
BEN = 8_800_000_001
CARLA = 8_800_000_002


# ---- splitting, cutting, counting ---------------------------------------------------------------


def test_twelve_or_fewer_measures_are_one_poll() -> None:
    (group,) = split_polls([(1, [1, 2, 3]), (2, []), (3, [4, 5, 6, 7, 8, 9, 10, 11, 12])])
    assert group.areas == (1, 3)
    assert group.numbers == tuple(range(1, 13))


def test_more_measures_are_packed_by_neighbouring_areas() -> None:
    groups = split_polls([(1, [1, 2, 3, 4, 5]), (2, [6, 7, 8]), (3, list(range(9, 16)))])
    assert [g.areas for g in groups] == [(1, 2), (3,)]
    assert [g.numbers for g in groups] == [(1, 2, 3, 4, 5, 6, 7, 8), tuple(range(9, 16))]


def test_an_area_of_more_than_twelve_is_cut_in_nearly_equal_parts() -> None:
    groups = split_polls([(1, [1]), (3, list(range(2, 27)))])  # 25 in area 3
    assert [g.areas for g in groups] == [(1,), (3,), (3,), (3,)]
    assert [len(g.numbers) for g in groups] == [1, 9, 9, 7]


@given(
    st.lists(
        st.lists(st.integers(min_value=1, max_value=10_000), max_size=30, unique=True),
        min_size=1,
        max_size=6,
    )
)
def test_every_open_measure_is_in_exactly_one_poll_of_at_most_twelve(
    areas: list[list[int]],
) -> None:
    by_area = list(enumerate(areas, start=1))
    groups = split_polls(by_area)
    listed = [n for g in groups for n in g.numbers]
    assert listed == [n for _, numbers in by_area for n in numbers]  # area order kept
    assert all(1 <= len(g.numbers) <= POLL_OPTIONS for g in groups)


def test_options_are_cut_safely_to_telegrams_length() -> None:
    long = "Kundenreise 🚀 überarbeiten " * 10
    text = option_text("Nr. 12 – ", long)
    assert text.startswith("Nr. 12 – Kundenreise 🚀")
    assert text.endswith("…")
    assert utf16_length(text) <= OPTION_LIMIT
    assert option_text("Nr. 3 – ", "kurz\nund\tknapp") == "Nr. 3 – kurz und knapp"
    # an emoji outside the BMP counts two and is never split in half
    assert cut("a" + "😀" * 60, 10) == "a😀😀😀😀…"
    assert utf16_length(cut("😀" * 60, 9)) <= 9


@given(st.text(max_size=400), st.integers(min_value=1, max_value=999_999))
def test_every_option_fits(text: str, number: int) -> None:
    option = option_text(f"Nr. {number} – ", text)
    assert 1 <= utf16_length(option) <= OPTION_LIMIT


def test_sensible_picks_are_about_a_third_and_at_least_one() -> None:
    assert [sensible_picks(n) for n in (1, 2, 3, 5, 7, 12)] == [1, 1, 1, 2, 2, 4]


def test_hours_are_read_as_people_write_them() -> None:
    assert parse_hours("24") == 24
    assert parse_hours("24h") == 24
    assert parse_hours("2d") == 48
    assert parse_hours("3 t") == 72
    for bad in ("0", "-1", "abc", "721", "1.5", ""):
        assert parse_hours(bad) is None


def test_the_result_orders_by_votes_and_ties_by_area_order() -> None:
    order = [4, 1, 9, 2]  # area order, not number order
    ranked = ranking(order, {1: 2, 9: 2, 2: 3})
    assert [(r.number, r.votes) for r in ranked] == [(2, 3), (1, 2), (9, 2), (4, 0)]


# ---- the store --------------------------------------------------------------------------------


def _board(session: Session, chat: int = CHAT) -> Board:
    return board_store.create_board(
        session,
        chat_id=chat,
        thread_id=0,
        title="Plan <A&B>",
        language="de",
        created_by=1,
        timezone="Europe/Berlin",
        next_reminder_at=None,
    )


def _soll(session: Session, board: Board, message_id: int, point: int) -> None:
    entry_store.add_entry(
        session,
        board=board_store.board_head(board),
        point=point,
        kind=Kind.SOLL,
        text=f"Maßnahme <{message_id}>",
        author_id=1,
        author_name="Anna",
        chat_id=board.chat_id,
        message_id=message_id,
    )


def _started(session: Session, board: Board) -> tuple[Vote, list[VotePoll]]:
    started = votes.start_vote(
        session,
        board=board,
        started_by=1,
        ends_at=datetime.now(UTC) + timedelta(hours=1),
        groups=[(1, 2), (3,)],
    )
    assert started is not None
    return started


def test_one_running_vote_per_board_and_each_persons_current_choice(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        assert board.id is not None
        vote, (first, second) = _started(session, board)
        session.commit()
        again = votes.start_vote(
            session, board=board, started_by=1, ends_at=vote.ends_at, groups=[(1,)]
        )
        assert again is None
        votes.record_poll_sent(
            session, poll_row_id=first.id or 0, poll_id="p1", chat_id=CHAT, message_id=10
        )
        found = votes.poll_by_telegram_id(session, poll_id="p1")
        assert found is not None
        assert found[0].id == first.id
        votes.set_choice(session, poll=first, person_id=BEN, numbers=[1, 2])
        votes.set_choice(session, poll=first, person_id=BEN, numbers=[2])  # changed his mind
        votes.set_choice(session, poll=second, person_id=BEN, numbers=[3])
        votes.set_choice(session, poll=first, person_id=CARLA, numbers=[2])
        votes.set_choice(session, poll=first, person_id=CARLA, numbers=[])  # taken back
        assert vote.id is not None
        assert votes.tallies(session, vote_id=vote.id) == {2: 1, 3: 1}
        assert votes.voter_count(session, vote_id=vote.id) == 1
        assert votes.board_votes(session, board_id=board.id) == {2: 1, 3: 1}
        session.commit()


def test_the_end_and_each_stop_are_claimed_once(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        vote, (first, _) = _started(session, board)
        assert vote.id is not None
        votes.record_poll_sent(
            session, poll_row_id=first.id or 0, poll_id="p2", chat_id=CHAT, message_id=11
        )
        session.commit()
        assert votes.due_votes(session, now=datetime.now(UTC)) == []
        later = datetime.now(UTC) + timedelta(hours=2)
        assert [v.id for v in votes.due_votes(session, now=later)] == [vote.id]
        assert votes.claim_end(session, vote_id=vote.id, now=later)
        assert not votes.claim_end(session, vote_id=vote.id, now=later)
        assert votes.claim_stops(session, vote_id=vote.id) == [(CHAT, 11)]
        assert votes.claim_stops(session, vote_id=None) == []
        session.commit()
        # the second poll is sent only now: the sweep's leftover pass stops it, once
        _, second = votes.polls_of(session, vote_id=vote.id)
        votes.record_poll_sent(
            session, poll_row_id=second.id or 0, poll_id="p3", chat_id=CHAT, message_id=12
        )
        assert votes.claim_stops(session, vote_id=None) == [(CHAT, 12)]
        assert votes.claim_stops(session, vote_id=None) == []
        # a new vote may start now
        assert votes.running_vote(session, board_id=vote.board_id) is None
        _started(session, board)
        session.commit()


def test_votes_are_erased_with_the_person_and_with_the_board(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        other = _board(session, chat=CHAT - 1)
        assert board.id is not None
        assert other.id is not None
        vote, (first, second) = _started(session, board)
        _, (elsewhere, _) = _started(session, other)
        votes.set_choice(session, poll=first, person_id=BEN, numbers=[1, 2])
        votes.set_choice(session, poll=second, person_id=CARLA, numbers=[3])
        votes.set_choice(session, poll=elsewhere, person_id=CARLA, numbers=[1])
        session.commit()
        assert erase_person(session, BEN)["votes"] == {board.id: 2}
        assert votes.board_votes(session, board_id=board.id) == {3: 1}
        assert erase_person(session, 1)["votes"] == {board.id: 1, other.id: 1}  # the starter
        assert session.get(Vote, vote.id).started_by is None  # type: ignore[union-attr]
        session.commit()
        assert erase_board(session, board.id)["votes"] == 1 + 2 + 1  # pick, polls, vote
        assert session.exec(select(VoteBallot)).all() != []  # the other board's
        assert votes.board_votes(session, board_id=other.id) == {1: 1}
        assert votes.latest_vote(session, board_id=board.id) is None
        session.commit()


# ---- the plan with votes ---------------------------------------------------------------------------


def _measures() -> list[MeasureView]:
    return [
        MeasureView(1, 6, "Später <X>", None, None, None, Status.OPEN),
        MeasureView(2, 1, "Zuerst", None, None, None, Status.OPEN),
        MeasureView(3, 2, "Erledigt", None, None, None, Status.DONE),
        MeasureView(4, 1, "Auch vorn", None, None, None, Status.OPEN),
    ]


def test_the_plan_by_votes_marks_and_orders_every_measure() -> None:
    tally = {1: 3, 4: 1}
    (page,) = plan_pages(MODEL, DE, "Plan", _measures(), date(2026, 12, 6), Grouping.VOTES, tally)
    text = page.text
    assert "nach Stimmen" in text
    # 1 (3 votes), 4 (1), then the ties at 0 in area order: 2 (point 1), 3 (point 2)
    assert page.numbers == (1, 4, 2, 3)
    assert "🗳 3 Stimmen" in text
    assert "🗳 1 Stimme\n" in text
    assert "Später &lt;X&gt;" in text
    (by_area,) = plan_pages(MODEL, DE, "Plan", _measures(), date(2026, 12, 6))
    assert "🗳" not in by_area.text  # never voted: no marks


def test_files_carry_the_votes() -> None:
    rows = [PlanRow(1, 6, "a", None, None, "offen", 3, votes=2)]
    assert plan_json(rows)[0]["votes"] == 2
    markdown = plan_markdown(rows, DE, MODEL)
    assert "| Stimmen |" in markdown
    assert markdown.rstrip().endswith("| 3 | 2 |")
    never = [PlanRow(1, 6, "a", None, None, "offen", 3)]
    assert plan_json(never)[0]["votes"] is None
    assert "Stimmen" not in plan_markdown(never, DE, MODEL)


def test_result_text_names_votes_and_voters() -> None:
    board = Board(chat_id=CHAT, title="Plan <A&B>", language="en", created_by=1, timezone="UTC")
    text = result_text(MODEL, EN, board, _measures(), {2: 2, 4: 2, 1: 1}, 3)
    lines = text.splitlines()
    assert lines[0] == "🗳 <b>Result of the vote: Plan &lt;A&amp;B&gt;</b>"
    assert lines[1] == "3 people voted."
    assert lines[2].startswith("1. <b>No. 2</b> (2 votes)")
    assert lines[3].startswith("2. <b>No. 4</b> (2 votes)")
    assert lines[4] == "3. <b>No. 1</b> (1 vote): Später &lt;X&gt;"
    assert "Nobody" in result_text(MODEL, EN, board, _measures(), {}, 0)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_digest_names_the_top_three_open_measures(engine: Engine, language: str) -> None:
    messages = load_texts()[language]
    with Session(engine, expire_on_commit=False) as session:
        board = _board(session)
        assert board.id is not None
        assert votes_digest(session, board, messages, MODEL, datetime.now(UTC)) == []
        for message_id, point in enumerate([1, 2, 3, 6, 7], start=1):
            _soll(session, board, message_id, point)
        plan_store.sync_measures(
            session, board=board, proposed_steps=step_proposals(MODEL.action_steps)
        )
        measure = plan_store.measure_by_number(session, board=board, number=1)
        assert measure is not None
        plan_store.set_measure_status(session, measure=measure, status=Status.DONE)
        _, (poll, _) = _started(session, board)
        votes.set_choice(session, poll=poll, person_id=BEN, numbers=[1, 2, 3, 4, 5])
        votes.set_choice(session, poll=poll, person_id=CARLA, numbers=[1, 5, 4])
        lines = votes_digest(session, board, messages, MODEL, datetime.now(UTC))
        assert len(lines) == 4
        # 1 is done: left out; 4 and 5 have two votes, then 2 (area 1 before 3)
        assert [line.split("(")[0].split()[-1] for line in lines[1:]] == ["4", "5", "2"]
        assert "&lt;4&gt;" in lines[1]
        session.commit()


def test_the_report_has_a_votes_column_once_the_board_voted() -> None:
    view = demo_board(MODEL, "Demo", "de")
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def last_page(rows: list[PlanRow]) -> str:
        pdf = render_pdf(MODEL, DE, view, now=now, plan=rows)
        return PdfReader(io.BytesIO(pdf)).pages[-1].extract_text() or ""

    voted = last_page([PlanRow(1, 5, "Reifen", None, None, "offen", 4, votes=7)])
    assert "Stimmen" in voted
    assert "7" in voted.split("Stimmen", 1)[1]
    assert "Stimmen" not in last_page([PlanRow(1, 5, "Reifen", None, None, "offen", 4)])


def test_the_export_files_carry_the_votes() -> None:
    view = demo_board(MODEL, "Demo", "de")
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    rows = [
        PlanRow(1, 5, "Reifen", None, None, "offen", 4, votes=7),
        PlanRow(2, 6, "Sattel", None, None, "offen", 4, votes=0),
    ]
    markdown = board_markdown(MODEL, DE, view, now, rows)
    assert "· Stimmen: 7" in markdown
    assert "· Stimmen: 0" in markdown
    assert [m["votes"] for m in json.loads(board_json(MODEL, view, now, rows))["plan"]] == [7, 0]
    assert "Stimmen" not in board_markdown(
        MODEL, DE, view, now, [PlanRow(1, 5, "R", None, None, "offen", 4)]
    )


def test_a_long_result_stays_one_message_and_says_how_many_more() -> None:
    measures = [
        MeasureView(n, 1 + n % 20, "x" * 4000, None, None, None, Status.OPEN) for n in range(1, 60)
    ]
    board = Board(chat_id=CHAT, title="P", language="de", created_by=1, timezone="UTC")
    text = result_text(MODEL, DE, board, measures, {5: 3}, 2)
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    assert text.splitlines()[2].startswith("1. <b>Nr. 5</b> (3 Stimmen)")
    assert "… und " in text
    assert text.endswith("Den Plan nach Stimmen zeigt <code>/plan stimmen</code>.")
