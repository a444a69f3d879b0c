"""Voting on the plan (SPEC §15): `/vote [hours]`, `/vote stop`, the plan's "Abstimmen" button,
each person's picks from `poll_answer`, the end of a vote (swept, once across processes), its
result, and the votes in the digest and `/status`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import Message, Update
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot import clock
from bot.context import Context
from bot.handlers.core.buttons import Press, on_press
from bot.handlers.core.outbox import Outbox, action
from bot.handlers.core.sections import digest_section, plan_digest_section, status_section
from bot.handlers.core.send import ChatGone, send_poll, stop_poll
from bot.handlers.core.sweep import sweeper
from bot.handlers.core.turn import Need, Refusal, Turn, handles
from bot.handlers.plan import VOTE_ACTION, synced_plan
from bot.model.board import BoardStatus
from bot.model.catalogue import ModelText
from bot.model.plan import MeasureView, Status
from bot.model.vote import (
    DEFAULT_HOURS,
    MAX_HOURS,
    QUESTION_LIMIT,
    cut,
    duration,
    is_stop,
    option_text,
    parse_hours,
    ranking,
    sensible_picks,
    split_polls,
)
from bot.render.dates import reader_moment
from bot.render.plan import by_votes, in_area_order, votes_shown
from bot.render.split import MESSAGE_LIMIT, shorten_plain, telegram_length
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import plan as plan_store
from bot.store import votes
from bot.store.tables import Board, Vote, VotePoll
from bot.store.unit import UnitOfWork
from bot.texts import Html, Messages

log = logging.getLogger(__name__)

RESULT_TEXT_SHOWN = 90  # characters of a measure's text in the result and the digest
DIGEST_TOP = 3


def _ends(board: Board, messages: Messages, moment: datetime) -> str:
    return reader_moment(moment, ZoneInfo(board.timezone), messages)


# ---- starting a vote ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Poll:
    row_id: int
    question: str
    options: list[str]


def _question(
    messages: Messages, model: ModelText, areas: Sequence[int], part: int, parts: int, size: int
) -> str:
    picks = sensible_picks(size)
    if parts == 1:
        text = messages.plain_format("vote_question_one", picks=picks, options=size)
    else:
        names = ", ".join(model.areas[area - 1].name for area in areas)
        text = messages.plain_format(
            "vote_question_part", part=part, parts=parts, areas=names, picks=picks, options=size
        )
    return cut(text, QUESTION_LIMIT)


def begin_vote(
    session: Session,
    board: Board,
    messages: Messages,
    model: ModelText,
    person_id: int | None,
    hours: int,
    out: Outbox,
) -> None:
    """Start a vote on the board's open measures: the vote and its polls are stored, the
    announcement and the polls are sent after the commit (refusals as `Refusal`)."""
    assert board.id is not None
    if board.status != BoardStatus.OPEN.value:
        raise Refusal("vote_board_closed")
    running = votes.running_vote(session, board_id=board.id)
    if running is not None:
        raise Refusal("vote_running", ends=_ends(board, messages, running.ends_at))
    measures = [m for m in synced_plan(session, board, model) if m.status is Status.OPEN]
    if not measures:
        raise Refusal("vote_no_open")
    by_area = [
        (area.number, [m.number for m in in_area_order(model, measures) if m.point in area.points])
        for area in model.areas
    ]
    groups = split_polls(by_area)
    ends_at = clock.now() + duration(hours)
    started = votes.start_vote(
        session,
        board=board,
        started_by=person_id,
        ends_at=ends_at,
        groups=[group.numbers for group in groups],
    )
    if started is None:  # another process started one a moment ago
        raise Refusal("vote_running", ends=_ends(board, messages, ends_at))
    _, rows = started
    texts = {m.number: m.text for m in measures}
    polls: list[_Poll] = []
    for group, row in zip(groups, rows, strict=True):
        assert row.id is not None
        options = [
            option_text(messages.plain_format("vote_option_prefix", number=n), texts[n])
            for n in group.numbers
        ]
        question = _question(messages, model, group.areas, row.part, len(groups), len(options))
        polls.append(_Poll(row.id, question, options))
    polls_line = (
        messages.plain("vote_polls_one")
        if len(polls) == 1
        else messages.plain_format("vote_polls_many", polls=len(polls))
    )
    out.answer(
        messages(
            "vote_started",
            title=shorten_plain(board.title, 200),
            count=len(measures),
            polls_line=polls_line,
            ends=_ends(board, messages, ends_at),
        )
    )
    for poll in polls:
        out.do("poll", row=poll.row_id, question=poll.question, options=poll.options)


@action("poll")
async def _send_poll(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """Send one poll and keep Telegram's poll id (answers name the poll only by it); a poll
    Telegram refuses for good ends its vote at once (`poll_refused`)."""
    row = int(args["row"])
    data = context.bot_data
    if not await data.run_unit(chat, lambda unit: votes.poll_wanted(unit.session, poll_row_id=row)):
        return  # its vote was abandoned a moment ago
    options = [str(option) for option in args["options"]]
    try:
        sent: Message = await send_poll(context, chat, thread, str(args["question"]), options)
    except (BadRequest, ChatGone) as exc:
        await poll_refused(context, chat, thread, row, exc)
        return
    poll = sent.poll
    if poll is None:
        return

    def work(unit: UnitOfWork) -> None:
        session = unit.session
        votes.record_poll_sent(
            session,
            poll_row_id=row,
            poll_id=poll.id,
            chat_id=sent.chat.id,
            message_id=sent.message_id,
        )
        unit.commit()

    await data.run_unit(chat, work)


@action("stop_polls")
async def _stop_polls_stored(
    context: Context, chat: int, thread: int, args: dict[str, Any]
) -> None:
    """Close the polls of an ended vote (best effort: one already gone is no failure)."""
    await _stop_polls(context, chat, [(int(c), int(m)) for c, m in args["polls"]])


async def poll_refused(
    context: Context, chat_id: int, thread_id: int, poll_row_id: int, refusal: Exception
) -> None:
    """Telegram refused a poll of a vote for good (the group forbids polls, the bot was
    removed): the vote ends now instead of blocking `/vote` until its end, its sent polls
    are stopped, and the group is told in a sentence (unless the bot is gone from it)."""
    data = context.bot_data
    log.warning("vote poll refused in %s: %s", chat_id, refusal)
    out = Outbox(chat_id, thread_id)

    def work(unit: UnitOfWork) -> bool:
        """Whether the vote ended now (else it had ended already)."""
        session = unit.session
        row = session.get(VotePoll, poll_row_id)
        vote = session.get(Vote, row.vote_id) if row is not None else None
        board = board_store.board_by_id(session, vote.board_id) if vote is not None else None
        stops = votes.abandon_vote(session, poll_row_id=poll_row_id, now=clock.now())
        if stops is None or board is None:  # ended already (/vote stop, another refusal)
            unit.commit()
            return False
        # stored with the vote's end: a crash after this commit still stops the polls and
        # tells the group (unless the bot is gone from it)
        if stops:
            out.do("stop_polls", polls=[[chat, message] for chat, message in stops])
        if not isinstance(refusal, ChatGone):
            out.post(data.messages(board.language)("vote_refused"))
        unit.store(out)
        unit.commit()
        return True

    if await data.run_unit(chat_id, work):
        await out.deliver(context)


@handles(board=Need.LATEST, moderator=True)
def vote_command(turn: Turn) -> None:
    """`/vote [hours]` starts a vote on the open measures; `/vote stop` ends the running one."""
    argument = turn.argument().strip()
    if is_stop(argument):
        _stop_now(turn)
        return
    hours = DEFAULT_HOURS if not argument else parse_hours(argument)
    if hours is None:
        raise Refusal("vote_bad_hours", given=argument[:20], most=MAX_HOURS)
    person = turn.person.id if turn.person is not None else None
    begin_vote(turn.session, turn.open_board, turn.messages, turn.model, person, hours, turn.out)


@on_press(VOTE_ACTION, moderator=True)
def press_vote(press: Press) -> None:
    """A moderator taps "Abstimmen" under the plan: a vote of the default length starts."""
    begin_vote(
        press.session,
        press.board,
        press.messages,
        press.model,
        press.person.id,
        DEFAULT_HOURS,
        press.out,
    )
    press.tell("vote_pressed")


# ---- each person's choice ---------------------------------------------------------------------


async def poll_answer(update: Update, context: Context) -> None:
    """A person's whole current choice in one of the bot's polls (empty: taken back)."""
    answer = update.poll_answer
    if answer is None or answer.user is None:  # an anonymous voter: nobody to count
        return
    data = context.bot_data
    person_id = answer.user.id
    chosen = list(answer.option_ids)

    def work(unit: UnitOfWork) -> None:
        session = unit.session
        if not unit.claim():
            return
        found = votes.poll_by_telegram_id(session, poll_id=answer.poll_id)
        if found is not None and found[1].ended_at is None:
            poll = found[0]
            numbers = votes.numbers_of(poll)
            picked = [numbers[i] for i in chosen if 0 <= i < len(numbers)]
            votes.set_choice(session, poll=poll, person_id=person_id, numbers=picked)
        unit.commit()

    await data.run_unit(person_id, work)


# ---- ending a vote ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ended:
    """What ending a vote sends: the polls to stop, then the result."""

    chat_id: int
    thread_id: int
    polls: list[tuple[int, int]]  # chat id, message id
    result: Html


def result_text(
    model: ModelText,
    messages: Messages,
    board: Board,
    measures: Sequence[MeasureView],
    tally: dict[int, int],
    voters: int,
) -> Html:
    """The result: the measures voted on by votes (ties in area order), each with its votes,
    and how many people voted."""
    lines = [messages("vote_result_title", title=shorten_plain(board.title, 200))]
    if voters == 0:
        lines.append(messages("vote_result_nobody"))
        return Html("\n".join(lines))
    if voters == 1:
        lines.append(messages("vote_result_voters_one"))
    else:
        lines.append(messages("vote_result_voters", voters=voters))
    texts = {m.number: m.text for m in measures}
    order = [m.number for m in in_area_order(model, measures)]
    ranked = ranking(order, tally)
    listed: list[Html] = []
    for rank, item in enumerate(ranked, start=1):
        listed.append(
            messages(
                "vote_result_line",
                rank=rank,
                number=item.number,
                votes=votes_shown(messages, item.votes),
                text=shorten_plain(texts[item.number], RESULT_TEXT_SHOWN),
            )
        )
    footer = messages("vote_result_how")
    more_room = telegram_length(messages("vote_result_more", count=len(listed))) + 1
    budget = MESSAGE_LIMIT - telegram_length("\n".join([*lines, footer])) - more_room - 2
    kept: list[Html] = []
    for line in listed:  # a long result keeps its head and says how many more there are
        budget -= telegram_length(line) + 1
        if budget < 0:
            break
        kept.append(line)
    if len(kept) < len(listed):
        kept.append(messages("vote_result_more", count=len(listed) - len(kept)))
    return Html("\n".join([*lines, *kept, footer]))


def _end(session: Session, model: ModelText, messages: Messages, vote: Vote) -> _Ended | None:
    """Claim the end of `vote` (once, in the caller's unit of work) and decide what to send."""
    assert vote.id is not None
    if not votes.claim_end(session, vote_id=vote.id, now=clock.now()):
        return None
    board = board_store.board_by_id(session, vote.board_id)
    assert board is not None
    voted_on = {
        n for poll in votes.polls_of(session, vote_id=vote.id) for n in votes.numbers_of(poll)
    }
    measures = [m for m in plan_store.plan_measures(session, board=board) if m.number in voted_on]
    tally = votes.tallies(session, vote_id=vote.id)
    voters = votes.voter_count(session, vote_id=vote.id)
    stops = votes.claim_stops(session, vote_id=vote.id)
    text = result_text(model, messages, board, measures, tally, voters)
    return _Ended(board.chat_id, board.thread_id, stops, text)  # the group's id now


async def _stop_polls(context: Context, chat: int, polls: Sequence[tuple[int, int]]) -> None:
    """Stop the claimed polls (of a vote in `chat`). One Telegram refuses for good counts as
    stopped; one it could not take just now (a flood limit, the network) is released for the
    next sweep."""
    later: list[tuple[int, int]] = []
    for chat_id, message_id in polls:
        try:
            await stop_poll(context, chat_id, message_id)
        except (RetryAfter, NetworkError) as exc:  # TimedOut is a NetworkError
            log.warning("poll %s in %s not stopped yet, again later: %s", message_id, chat_id, exc)
            later.append((chat_id, message_id))
    if later:
        data = context.bot_data

        def work(unit: UnitOfWork) -> None:
            session = unit.session
            votes.release_stops(session, polls=later)
            unit.commit()

        await data.run_unit(chat, work)


def _stop_now(turn: Turn) -> None:
    board = turn.open_board
    assert board.id is not None
    running = votes.running_vote(turn.session, board_id=board.id)
    if running is None:
        raise Refusal("vote_none_running")
    ended = _end(turn.session, turn.model, turn.messages, running)
    if ended is None:  # the sweep ended it a moment ago and posts the result
        raise Refusal("vote_none_running")
    turn.out.do("stop_polls", polls=[[chat, message] for chat, message in ended.polls])
    turn.out.post(ended.result)


@sweeper("votes")
async def vote_sweep(context: Context, now: datetime) -> int:
    """End the votes whose time has come (once across processes and restarts: the claim is
    the vote's `ended_at`), stop their polls and post the results; stop polls of ended votes
    that were sent after the end was claimed. How many results were posted."""
    data = context.bot_data
    # the stops and results are outbox rows, stored in the transaction that claims the ends
    # (SPEC §12): a crash after the claim still sends them
    results: list[Outbox] = []
    stops: list[Outbox] = []

    def work(unit: UnitOfWork) -> None:
        session = unit.session
        for vote in votes.due_votes(session, now=now):
            board = board_store.board_by_id(session, vote.board_id)
            if board is None:
                continue
            done = _end(session, data.model(board.language), data.messages(board.language), vote)
            if done is None:
                continue
            out = Outbox(done.chat_id, done.thread_id)
            if done.polls:
                out.do("stop_polls", polls=[[chat, message] for chat, message in done.polls])
            if chat_store.chat_is_active(session, done.chat_id):
                out.post(done.result)
                results.append(out)
            else:
                stops.append(out)
        leftovers = votes.claim_stops(session, vote_id=None)
        for chat_id in {chat for chat, _ in leftovers}:
            out = Outbox(chat_id, 0)
            out.do("stop_polls", polls=[[c, m] for c, m in leftovers if c == chat_id])
            stops.append(out)
        for out in (*stops, *results):
            unit.store(out)
        unit.commit()

    await data.run_unit(None, work)  # the sweep is work of no chat
    for out in stops:
        try:
            await out.deliver(context)
        except Exception as exc:  # best effort, like every stop (the row stays for a restart)
            log.info("polls in %s not stopped: %s", out.chat_id, type(exc).__name__)
    posted = 0
    for out in results:
        try:
            await out.deliver(context)
            posted += 1
        except ChatGone:
            log.info("vote result not posted: the bot left chat %s", out.chat_id)
        except Exception:
            log.exception("vote result could not be posted in %s", out.chat_id)
    return posted


# ---- the digest and /status ----------------------------------------------------------------------


@digest_section("votes")
@plan_digest_section("votes")
def votes_digest(
    session: Session, board: Board, messages: Messages, model: ModelText, now: datetime
) -> list[Html]:
    """The weekly digest: the top three open measures of the board's last vote."""
    assert board.id is not None
    tally = votes.board_votes(session, board_id=board.id)
    if not tally:
        return []
    open_ones = [
        m
        for m in plan_store.plan_measures(session, board=board)
        if m.status is Status.OPEN and tally.get(m.number, 0) > 0
    ]
    top = by_votes(model, open_ones, tally)[:DIGEST_TOP]
    if not top:
        return []
    return [
        messages("vote_digest_top"),
        *(
            messages(
                "vote_digest_line",
                number=m.number,
                votes=votes_shown(messages, tally[m.number]),
                text=shorten_plain(m.text, RESULT_TEXT_SHOWN),
            )
            for m in top
        ),
    ]


@status_section("votes")
def votes_status(
    session: Session, board: Board, messages: Messages, model: ModelText, now: datetime
) -> list[Html]:
    """`/status`: a running vote, until when, how many voted so far."""
    assert board.id is not None
    running = votes.running_vote(session, board_id=board.id)
    if running is None or running.id is None:
        return []
    return [
        messages(
            "vote_status_running",
            ends=_ends(board, messages, running.ends_at),
            voters=votes.voter_count(session, vote_id=running.id),
        )
    ]
