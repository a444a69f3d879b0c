"""The autopilot (SPEC §9): `/pace <days> <HH:MM>`, `/pace off`, and the sweep that posts the
card of the next empty point on those days at that time — once per due time, whatever
restarts or how many processes sweep.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot import clock, metrics
from bot.context import BotData, Context
from bot.handlers.cards import queue_card
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.sections import status_section
from bot.handlers.core.send import ChatGone
from bot.handlers.core.sweep import sweeper
from bot.handlers.core.turn import Need, Refusal, Turn, handles
from bot.handlers.progress import queue_progress_message
from bot.model.board import BoardStatus
from bot.model.catalogue import ModelText
from bot.model.pace import (
    OFF_WORDS,
    SENDING,
    PaceError,
    PaceProblem,
    autopilot_step,
    effective_due,
    following_due,
    next_pace_due,
    pace_of,
    pace_outcome,
    read_pace,
)
from bot.render.pace import pace_description
from bot.render.when import local_time
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import schedules as schedule_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Html, Messages

log = logging.getLogger(__name__)
SWEEP_BATCH = 50
_PROBLEMS = {
    PaceProblem.USAGE: "pace_usage",
    PaceProblem.DAYS: "pace_bad_days",
    PaceProblem.TIME: "pace_bad_time",
}


@handles(board=Need.OPEN, moderator=True)
def pace(turn: Turn) -> None:
    """`/pace <days> <HH:MM>` or `/pace off`; the answer says when the first card comes."""
    board = turn.open_board
    argument = turn.argument().strip()
    if argument.casefold() in OFF_WORDS:
        schedule_store.set_pace(turn.session, board=board, days=None, at=None, next_at=None)
        turn.answer("pace_off")
        return
    read = read_pace(argument)
    if isinstance(read, PaceError):
        raise Refusal(_PROBLEMS[read.problem], given=read.given)
    next_at = next_pace_due(clock.now(), read, board.timezone)
    schedule_store.set_pace(
        turn.session, board=board, days=read.days, at=read.hhmm, next_at=next_at
    )
    complete = board_store.board_view(turn.session, board).is_complete
    turn.answer(
        "pace_set_complete" if complete else "pace_set",
        pace=pace_description(turn.messages, read.days, read.hhmm, board.timezone),
        when=local_time(next_at, board.timezone, turn.messages.language),
    )


@status_section("autopilot")
def pace_status(
    session: Session, board: Board, messages: Messages, model: ModelText, now: datetime
) -> list[Html]:
    """The `/status` line: the pace and when the next autopilot card comes, in local time."""
    if board.status != BoardStatus.OPEN:
        return []
    chosen = pace_of(board.pace_days, board.pace_time)
    if chosen is None or board.next_pace_at is None:
        return [messages("status_pace_off")]
    description = pace_description(messages, chosen.days, chosen.hhmm, board.timezone)
    if board_store.board_view(session, board).is_complete:
        return [messages("status_pace_complete", pace=description)]
    # a due instant in the past (the sweep is about to serve it) is shown as it stands
    when = local_time(board.next_pace_at, board.timezone, messages.language)
    return [messages("status_pace", pace=description, when=when)]


@sweeper("autopilot")
async def sweep(context: Context, now: datetime | None = None) -> int:
    """Claim every due autopilot time and post its card; returns how many cards were posted."""
    data = context.bot_data
    moment = now or clock.now()
    posted = 0
    tried: set[int] = set()
    while True:
        batch = [
            (board_id, chat_id)
            for board_id, chat_id in await data.run_unit(None, lambda unit: _due(unit, moment))
            if board_id not in tried
        ]
        if not batch:
            return posted
        for board_id, chat_id in batch:
            tried.add(board_id)
            if await _pace_one(context, board_id, chat_id, moment):
                posted += 1


def _due(unit: UnitOfWork, now: datetime) -> list[tuple[int, int]]:
    due = schedule_store.due_paces(unit.session, now=now, limit=SWEEP_BATCH)
    unit.commit()
    return due


async def _pace_one(context: Context, board_id: int, chat_id: int, now: datetime) -> bool:
    data = context.bot_data
    claimed = await data.run_unit(chat_id, lambda unit: _claim(unit, data, board_id, now))
    if claimed is None:
        return False
    out, due = claimed
    result = "sent"
    try:
        await out.deliver(context)
    except ChatGone:
        result = "chat_gone"
    except Exception:
        log.exception("autopilot card of board %s could not be posted", board_id)
        result = "failed"
    await data.run_unit(out.chat_id, lambda unit: _record(unit, board_id, due, result))
    if result == "sent":
        metrics.autopilot_sent()
    return result == "sent"


def _claim(
    unit: UnitOfWork, data: BotData, board_id: int, now: datetime
) -> tuple[Outbox, datetime] | None:
    """Decide and claim one board's due time; what to post (None: nothing, or not ours)."""
    session = unit.session
    board = schedule_store.lock_due_pace(session, board_id=board_id, now=now)
    chosen = pace_of(board.pace_days, board.pace_time) if board is not None else None
    if board is None or chosen is None or board.next_pace_at is None:
        unit.commit()
        return None
    stored = board.next_pace_at
    due = effective_due(stored, now, chosen, board.timezone)
    view = board_store.board_view(session, board)
    outcome = pace_outcome(
        due,
        now,
        is_open=board.status == BoardStatus.OPEN,
        complete=view.is_complete,
        active=chat_store.chat_is_active(session, board.chat_id),
    )
    next_at = following_due(due, now, chosen, board.timezone, posted=outcome == SENDING)
    if not schedule_store.claim_pace(
        session,
        board_id=board_id,
        stored_due=stored,
        due_at=due,
        next_at=next_at,
        outcome=outcome,
    ):
        return None
    out = Outbox(board.chat_id, board.thread_id)
    model = data.model(board.language)
    step = autopilot_step(model, view, board.current_area, board.current_point)
    if outcome == SENDING and step is not None:
        if step.opens_area:
            chosen_area = model.area(step.area)
            out.post(
                data.messages(board.language)(
                    "autopilot_area_opened", number=chosen_area.number, name=chosen_area.name
                )
            )
            # as when a moderator opens an area: the board's status message, the first time
            queue_progress_message(session, out, data, board)
        queue_card(session, out, data, board, step.point, area=step.area)
    unit.store(out)  # stored with the claim (SPEC §12): a crash after it still posts
    unit.commit()
    log.info("autopilot of board %s due %s: %s", board_id, due.isoformat(), outcome)
    return (out, due) if out.steps else None


def _record(unit: UnitOfWork, board_id: int, due: datetime, outcome: str) -> None:
    schedule_store.record_reminder_outcome(
        unit.session, board_id=board_id, due_at=due, outcome=outcome, kind="autopilot"
    )
    unit.commit()
