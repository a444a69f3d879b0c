"""Votes on the plan (SPEC §15): a board's votes, their polls, each person's current picks;
and how they are deleted with their board or their person."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, false, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store.erasure import board_eraser, person_eraser
from bot.store.tables import Board, Vote, VoteBallot, VotePoll


def numbers_of(poll: VotePoll) -> list[int]:
    """The measure numbers of a poll's options, in option order."""
    return [int(number) for number in poll.numbers.split(",") if number]


def running_vote(session: Session, *, board_id: int) -> Vote | None:
    """The board's vote that has not ended, if any (at most one: a unique index)."""
    return session.exec(
        select(Vote).where(Vote.board_id == board_id, col(Vote.ended_at).is_(None))
    ).first()


def latest_vote(session: Session, *, board_id: int) -> Vote | None:
    """The board's most recent vote, running or ended."""
    return session.exec(
        select(Vote)
        .where(Vote.board_id == board_id)
        .order_by(col(Vote.started_at).desc(), col(Vote.id).desc())
    ).first()


def start_vote(
    session: Session,
    *,
    board: Board,
    started_by: int | None,
    ends_at: datetime,
    groups: Sequence[Sequence[int]],
) -> tuple[Vote, list[VotePoll]] | None:
    """A new vote with one poll row per group of measure numbers; None when the board has a
    running vote already (also one another process started a moment ago)."""
    assert board.id is not None
    vote = Vote(
        board_id=board.id,
        started_by=started_by,
        ends_at=ends_at,
    )
    session.add(vote)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    assert vote.id is not None
    polls = [
        VotePoll(vote_id=vote.id, part=part, numbers=",".join(str(n) for n in numbers))
        for part, numbers in enumerate(groups, start=1)
    ]
    session.add_all(polls)
    session.flush()
    return vote, polls


def polls_of(session: Session, *, vote_id: int) -> list[VotePoll]:
    """A vote's polls in part order."""
    return list(
        session.exec(
            select(VotePoll).where(VotePoll.vote_id == vote_id).order_by(col(VotePoll.part))
        ).all()
    )


def record_poll_sent(
    session: Session, *, poll_row_id: int, poll_id: str, chat_id: int, message_id: int
) -> None:
    """Telegram's id of the poll and its message, so answers and the stop find them."""
    poll = session.get(VotePoll, poll_row_id)
    if poll is not None:
        poll.poll_id = poll_id
        poll.chat_id = chat_id
        poll.message_id = message_id


def poll_by_telegram_id(session: Session, *, poll_id: str) -> tuple[VotePoll, Vote] | None:
    """The poll row Telegram's poll id names, with its vote."""
    row = session.exec(
        select(VotePoll, Vote)
        .join(Vote, col(Vote.id) == col(VotePoll.vote_id))
        .where(VotePoll.poll_id == poll_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def set_choice(session: Session, *, poll: VotePoll, person_id: int, numbers: Sequence[int]) -> None:
    """The person's whole current choice in this poll (empty: taken back)."""
    assert poll.id is not None
    session.execute(
        delete(VoteBallot).where(
            col(VoteBallot.poll_row_id) == poll.id, col(VoteBallot.person_id) == person_id
        )
    )
    session.add_all(
        VoteBallot(poll_row_id=poll.id, person_id=person_id, number=number)
        for number in sorted(set(numbers))
    )
    session.flush()


def tallies(session: Session, *, vote_id: int) -> dict[int, int]:
    """Votes per measure number in a vote."""
    rows = session.exec(
        select(VoteBallot.number, func.count())
        .join(VotePoll, col(VotePoll.id) == col(VoteBallot.poll_row_id))
        .where(VotePoll.vote_id == vote_id)
        .group_by(col(VoteBallot.number))
    ).all()
    return {int(number): int(count) for number, count in rows}


def voter_count(session: Session, *, vote_id: int) -> int:
    """How many people have a pick in any poll of the vote."""
    return int(
        session.exec(
            select(func.count(func.distinct(VoteBallot.person_id)))
            .join(VotePoll, col(VotePoll.id) == col(VoteBallot.poll_row_id))
            .where(VotePoll.vote_id == vote_id)
        ).one()
    )


def due_votes(session: Session, *, now: datetime) -> list[Vote]:
    """Running votes whose end has come (by the index on `ends_at`)."""
    return list(
        session.exec(
            select(Vote).where(col(Vote.ends_at) <= now, col(Vote.ended_at).is_(None))
        ).all()
    )


def claim_end(session: Session, *, vote_id: int, now: datetime) -> bool:
    """End the vote: True for the one process (or `/vote stop`) that does it."""
    result = session.execute(
        update(Vote)
        .where(col(Vote.id) == vote_id, col(Vote.ended_at).is_(None))
        .values(ended_at=now)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def claim_stops(session: Session, *, vote_id: int | None) -> list[tuple[int, int]]:
    """Mark sent, unstopped polls stopped and return their (chat id, message id): those of
    `vote_id`, or with None those of every ended vote (polls sent after their end was claimed).
    The process whose update marks a poll stops it, so it is stopped once."""
    statement = (
        select(VotePoll)
        .join(Vote, col(Vote.id) == col(VotePoll.vote_id))
        .where(col(VotePoll.stopped) == false(), col(VotePoll.message_id).is_not(None))
    )
    if vote_id is None:
        statement = statement.where(col(Vote.ended_at).is_not(None))
    else:
        statement = statement.where(col(Vote.id) == vote_id)
    claimed: list[tuple[int, int]] = []
    for poll in session.exec(statement).all():
        result = session.execute(
            update(VotePoll)
            .where(col(VotePoll.id) == poll.id, col(VotePoll.stopped) == false())
            .values(stopped=True)
        )
        if int(result.rowcount) == 1 and poll.chat_id is not None and poll.message_id is not None:  # type: ignore[attr-defined]
            claimed.append((poll.chat_id, poll.message_id))
    return claimed


def release_stops(session: Session, *, polls: Sequence[tuple[int, int]]) -> None:
    """Polls (chat id, message id) whose stop Telegram could not take just now (a flood
    limit, the network): claimable again, so a later sweep stops them."""
    for chat_id, message_id in polls:
        session.execute(
            update(VotePoll)
            .where(col(VotePoll.chat_id) == chat_id, col(VotePoll.message_id) == message_id)
            .values(stopped=False)
        )


def abandon_vote(
    session: Session, *, poll_row_id: int, now: datetime
) -> list[tuple[int, int]] | None:
    """Telegram refused a poll of a vote for good: the vote ends now. If none of its polls
    reached the chat, the vote is deleted (the plan keeps the result of the one before);
    otherwise its sent polls are claimed to be stopped and returned. None when the vote is
    gone or ended already (nothing to do)."""
    poll = session.get(VotePoll, poll_row_id)
    if poll is None or not claim_end(session, vote_id=poll.vote_id, now=now):
        return None
    polls = polls_of(session, vote_id=poll.vote_id)
    if all(p.message_id is None for p in polls):
        session.execute(delete(VotePoll).where(col(VotePoll.vote_id) == poll.vote_id))
        session.execute(delete(Vote).where(col(Vote.id) == poll.vote_id))
        return []
    return claim_stops(session, vote_id=poll.vote_id)


def poll_wanted(session: Session, *, poll_row_id: int) -> bool:
    """Whether a poll is still to be sent: False once its vote was abandoned (deleted)."""
    return session.get(VotePoll, poll_row_id) is not None


@board_eraser("votes")
def erase_board_votes(session: Session, board_id: int) -> int:
    """A board's votes, their polls and every pick in them."""
    vote_ids = select(Vote.id).where(Vote.board_id == board_id)
    poll_ids = select(VotePoll.id).where(col(VotePoll.vote_id).in_(vote_ids))
    removed = 0
    for statement in (
        delete(VoteBallot).where(col(VoteBallot.poll_row_id).in_(poll_ids)),
        delete(VotePoll).where(col(VotePoll.vote_id).in_(vote_ids)),
        delete(Vote).where(col(Vote.board_id) == board_id),
    ):
        removed += int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
    return removed


@person_eraser("votes")
def forget_voter(session: Session, person_id: int) -> dict[int, int]:
    """The person's picks in every vote (deleted) and their name as a vote's starter; counts
    per board."""
    counts: dict[int, int] = {}
    picks = session.exec(
        select(VoteBallot, Vote.board_id)
        .join(VotePoll, col(VotePoll.id) == col(VoteBallot.poll_row_id))
        .join(Vote, col(Vote.id) == col(VotePoll.vote_id))
        .where(VoteBallot.person_id == person_id)
    ).all()
    for ballot, board_id in picks:
        session.delete(ballot)
        counts[board_id] = counts.get(board_id, 0) + 1
    for vote in session.exec(select(Vote).where(Vote.started_by == person_id)).all():
        vote.started_by = None
        counts[vote.board_id] = counts.get(vote.board_id, 0) + 1
    session.flush()
    return counts


def board_votes(session: Session, *, board_id: int) -> dict[int, int] | None:
    """Votes per measure number in the board's last vote (running or ended); None when the
    board never voted."""
    vote = latest_vote(session, board_id=board_id)
    if vote is None or vote.id is None:
        return None
    return tallies(session, vote_id=vote.id)
