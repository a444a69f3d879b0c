"""Weekly reminders about empty fields: /remind, /timezone, and the sweep that sends them."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot import clock, metrics
from bot.context import Context
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.send import ChatGone
from bot.handlers.core.sweep import sweeper
from bot.handlers.core.turn import Need, Refusal, Turn, handles
from bot.handlers.digest import digest_of
from bot.handlers.plan_digest import has_open_measures, plan_only_digest
from bot.model.arguments import parse_time_of_day, parse_timezone, parse_weekday
from bot.model.board import BoardView
from bot.model.pace import OFF_WORDS, next_pace_due, pace_of
from bot.model.schedule import CATCH_UP_LIMIT, next_due, parse_hhmm
from bot.render.when import local_time, reminder_description
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import plan as plan_store
from bot.store import schedules as schedule_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Html

log = logging.getLogger(__name__)
SWEEP_BATCH = 50


@handles(board=Need.OPEN, moderator=True)
def remind(turn: Turn) -> None:
    """`/remind <weekday> <HH:MM>` or `/remind off`."""
    board = turn.open_board
    words = turn.argument().split()
    if len(words) == 1 and words[0].casefold() in OFF_WORDS:
        schedule_store.set_reminder(
            turn.session,
            board=board,
            weekday=None,
            at=board.remind_time,
            timezone=board.timezone,
            next_at=None,
        )
        turn.answer("remind_off")
        return
    if len(words) != 2:
        raise Refusal("remind_usage")
    weekday = parse_weekday(words[0])
    if weekday is None:
        raise Refusal("remind_bad_weekday", given=words[0][:30])
    moment = parse_time_of_day(words[1])
    if moment is None:
        raise Refusal("remind_bad_time", given=words[1][:30])
    at = f"{moment:%H:%M}"
    next_at = next_due(clock.now(), weekday, moment, board.timezone)
    schedule_store.set_reminder(
        turn.session, board=board, weekday=weekday, at=at, timezone=board.timezone, next_at=next_at
    )
    turn.answer(
        "remind_set",
        weekday=turn.messages.weekday(weekday),
        time=at,
        zone=board.timezone,
        when=local_time(next_at, board.timezone, turn.messages.language),
    )


@handles(board=Need.OPEN, moderator=True)
def timezone(turn: Turn) -> None:
    """`/timezone <Area/City>`: the zone of the board's reminder (wall-clock time kept)."""
    board = turn.open_board
    zone = turn.parsed(parse_timezone, usage="timezone_usage", unknown="timezone_unknown")
    next_at = (
        next_due(clock.now(), board.remind_weekday, parse_hhmm(board.remind_time), zone)
        if board.remind_weekday is not None
        else None
    )
    schedule_store.set_reminder(
        turn.session,
        board=board,
        weekday=board.remind_weekday,
        at=board.remind_time,
        timezone=zone,
        next_at=next_at,
    )
    paced = pace_of(board.pace_days, board.pace_time)
    if paced is not None:  # the autopilot keeps its wall-clock time in the new zone
        schedule_store.set_pace(
            turn.session,
            board=board,
            days=paced.days,
            at=paced.hhmm,
            next_at=next_pace_due(clock.now(), paced, zone),
        )
    turn.answer(
        "timezone_set",
        zone=zone,
        reminder=reminder_description(turn.messages, board.remind_weekday, board.remind_time, zone),
    )


def _decide(
    board: Board,
    due: datetime,
    now: datetime,
    view: BoardView,
    active: bool,
    plan_open: bool = False,
) -> str:
    """What a due reminder does; a complete board gets the plan-only digest while its plan has
    open measures (SPEC §7)."""
    if now - due > CATCH_UP_LIMIT:
        return "skipped_late"
    if view.is_complete and not plan_open:
        return "skipped_complete"
    if not active:
        return "skipped_inactive"
    return "sending"


@sweeper("reminders")
async def sweep(context: Context, now: datetime | None = None) -> int:
    """Claim and send every due reminder; returns how many were sent."""
    data = context.bot_data
    moment = now or clock.now()
    sent = 0
    tried: set[int] = set()

    def due(unit: UnitOfWork) -> list[Board]:
        batch = [
            b
            for b in schedule_store.due_boards(unit.session, now=moment, limit=SWEEP_BATCH)
            if b.id not in tried
        ]
        unit.commit()
        return batch

    while True:
        batch = await data.run_unit(None, due)
        if not batch:
            return sent
        for board in batch:
            assert board.id is not None
            tried.add(board.id)
            if await _remind_one(context, board, moment):
                sent += 1


async def _remind_one(context: Context, board: Board, now: datetime) -> bool:
    """Claim one board's due reminder and send it as the weekly digest (SPEC §7)."""
    data = context.bot_data
    due = board.next_reminder_at
    if due is None or board.remind_weekday is None or board.id is None:
        return False
    board_id = board.id
    next_at = next_due(
        max(now, due), board.remind_weekday, parse_hhmm(board.remind_time), board.timezone
    )

    def claim(unit: UnitOfWork) -> tuple[str, Outbox | None]:
        session = unit.session
        current = board_store.board_by_id(session, board_id) or board
        view = board_store.board_view(session, current)
        active = chat_store.chat_is_active(session, current.chat_id)
        measures = plan_store.plan_measures(session, board=current) if view.is_complete else []
        outcome = _decide(current, due, now, view, active, has_open_measures(measures))
        if not schedule_store.claim_reminder(
            session, board_id=board_id, due_at=due, next_at=next_at, outcome=outcome
        ):
            return "lost", None
        text: Html | None = None
        markup: InlineKeyboardMarkup | None = None
        if outcome == "sending" and view.is_complete:
            text = plan_only_digest(session, data, current, measures, now)
            schedule_store.mark_digest(session, board_id=board_id, at=now)
        elif outcome == "sending":
            text, markup = digest_of(session, data, current, view, now)
            schedule_store.mark_digest(session, board_id=board_id, at=now)
        out = None
        if text is not None:
            # stored with the claim (SPEC §12): a crash after it still sends the digest
            out = Outbox(current.chat_id, current.thread_id)
            out.post(text, markup=markup)
            unit.store(out)
        unit.commit()
        return outcome, out

    outcome, out = await data.run_unit(board.chat_id, claim)
    if outcome != "sending" or out is None:
        if outcome != "lost":
            log.info("reminder of board %s due %s: %s", board_id, due.isoformat(), outcome)
        return False
    result = "sent"
    try:
        await out.deliver(context)
    except ChatGone:
        result = "chat_gone"
    except Exception:
        log.exception("reminder of board %s could not be sent", board_id)
        result = "failed"

    def record(unit: UnitOfWork) -> None:
        schedule_store.record_reminder_outcome(
            unit.session, board_id=board_id, due_at=due, outcome=result
        )
        unit.commit()

    await data.run_unit(out.chat_id, record)
    if result == "sent":
        metrics.reminder_sent()
    return result == "sent"
