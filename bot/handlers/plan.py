"""The plan (SPEC §10): /plan, /measure, the plan message's buttons, the day-before follow-up,
the plan's lines in the digest and /status, and the plan's rows for the files and the report."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, User

from bot import clock
from bot.context import Context
from bot.handlers.core.buttons import Press, button, on_press, whole_number
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.sections import digest_section, status_section
from bot.handlers.core.send import ChatGone
from bot.handlers.core.sweep import sweeper
from bot.handlers.core.turn import Need, Refusal, Turn, handles
from bot.model.board import BoardStatus
from bot.model.catalogue import ModelText
from bot.model.plan import (
    MeasureView,
    Owner,
    Status,
    clean_name,
    clears,
    counts,
    due_within,
    followup_instant,
    followup_window,
    is_past,
    local_today,
    parse_due,
    parse_measure_number,
    parse_owner,
    parse_status,
    parse_step,
    step_proposals,
)
from bot.model.plan_rows import PlanRow
from bot.model.schedule import CATCH_UP_LIMIT, parse_hhmm
from bot.render.dates import reader_date
from bot.render.plan import (
    Grouping,
    PlanPage,
    digest_lines,
    followup_text,
    plan_pages,
    status_lines,
    status_word,
)
from bot.store import chats as chat_store
from bot.store import plan as plan_store
from bot.store import schedules as schedule_store
from bot.store import votes
from bot.store.tables import Board, Measure
from bot.store.unit import UnitOfWork
from bot.texts import Html, Messages

log = logging.getLogger(__name__)

FOLLOWUP = "followup"  # the kind of the claimed post (schedule_store.claim_due)
DIGEST_DAYS = 7
STATUS_ACTION = "plst"
PAGE_ACTION = "plpg"
VOTE_ACTION = "vote"  # the "Abstimmen" button: bot/handlers/vote.py

_GROUPINGS = {
    "": Grouping.AREA,
    "bereiche": Grouping.AREA,
    "bereich": Grouping.AREA,
    "areas": Grouping.AREA,
    "area": Grouping.AREA,
    "schritte": Grouping.STEP,
    "schritt": Grouping.STEP,
    "steps": Grouping.STEP,
    "step": Grouping.STEP,
    "stimmen": Grouping.VOTES,
    "stimme": Grouping.VOTES,
    "votes": Grouping.VOTES,
    "vote": Grouping.VOTES,
}
_FIELDS = {
    "owner": "owner",
    "verantwortlich": "owner",
    "wer": "owner",
    "who": "owner",
    "due": "due",
    "fällig": "due",
    "faellig": "due",
    "bis": "due",
    "termin": "due",
    "step": "step",
    "schritt": "step",
    "status": "status",
    "stand": "status",
}


# ---- reading the plan ---------------------------------------------------------------------------


def synced_plan(session: Session, board: Board, model: ModelText) -> list[MeasureView]:
    """The board's measures after bringing them in line with its live Soll entries."""
    plan_store.sync_measures(
        session, board=board, proposed_steps=step_proposals(model.action_steps, len(model.points))
    )
    return plan_store.plan_measures(session, board=board)


def board_today(board: Board) -> date:
    """Today in the board's time zone (due dates are days there)."""
    return local_today(clock.now(), board.timezone)


def plan_rows(
    session: Session, board: Board, messages: Messages, model: ModelText
) -> list[PlanRow]:
    """The plan for the files and the report: every live measure, in number order, with its
    status in the reader's word and its votes (once the board voted). Synchronises first (the
    caller commits)."""
    assert board.id is not None
    tally = votes.board_votes(session, board_id=board.id)
    return [
        PlanRow(
            number=m.number,
            point=m.point,
            text=m.text,
            owner=m.owner.shown if m.owner is not None else None,
            due=m.due,
            status=status_word(messages, m.status),
            step=m.step,
            votes=tally.get(m.number, 0) if tally is not None else None,
        )
        for m in synced_plan(session, board, model)
    ]


def _markup(
    messages: Messages,
    board_id: int,
    page: PlanPage,
    grouping: Grouping,
    measures: Sequence[MeasureView],
    can_vote: bool = False,
) -> InlineKeyboardMarkup | None:
    """One status button per measure on the page (moderators), ◀ ▶ when there are pages, and
    "Abstimmen" (moderators) when a vote could start."""
    by_number = {m.number: m for m in measures}
    rows: list[list[InlineKeyboardButton]] = []
    for number in page.numbers:
        status = by_number[number].status
        following = status.following()
        label = messages.plain_format(
            "plan_button_status",
            number=number,
            status=status_word(messages, status),
            next=status_word(messages, following),
        )
        argument = f"{number}.{following.value}.{page.index}.{grouping.value}"
        rows.append([button(label, STATUS_ACTION, board_id, argument)])
    paging: list[InlineKeyboardButton] = []
    if page.index > 0:
        label = messages.plain("plan_button_previous")
        paging.append(button(label, PAGE_ACTION, board_id, f"{page.index - 1}.{grouping.value}"))
    if page.index < page.count - 1:
        label = messages.plain("plan_button_next")
        paging.append(button(label, PAGE_ACTION, board_id, f"{page.index + 1}.{grouping.value}"))
    if paging:
        rows.append(paging)
    if can_vote:
        rows.append([button(messages.plain("vote_plan_button"), VOTE_ACTION, board_id)])
    return InlineKeyboardMarkup(rows) if rows else None


@dataclass(frozen=True)
class Shown:
    """A page of the plan as it is sent: text and buttons."""

    page: PlanPage
    markup: InlineKeyboardMarkup | None


def show_page(
    session: Session,
    board: Board,
    messages: Messages,
    model: ModelText,
    grouping: Grouping,
    index: int,
) -> Shown:
    """Page `index` of the plan (the last one if the plan has fewer pages now)."""
    assert board.id is not None
    measures = synced_plan(session, board, model)
    tally = votes.board_votes(session, board_id=board.id)
    pages = plan_pages(model, messages, board.title, measures, board_today(board), grouping, tally)
    page = pages[max(0, min(index, len(pages) - 1))]
    can_vote = (
        board.status == BoardStatus.OPEN.value
        and any(m.status is Status.OPEN for m in measures)
        and votes.running_vote(session, board_id=board.id) is None
    )
    return Shown(page, _markup(messages, board.id, page, grouping, measures, can_vote))


@handles(board=Need.LATEST, read_only=True)
def plan_command(turn: Turn) -> None:
    """`/plan` (by area), `/plan schritte` (by action step) or `/plan stimmen` (by votes);
    anyone, also on a closed board."""
    grouping = _GROUPINGS.get(turn.argument().strip().casefold())
    if grouping is None:
        raise Refusal("vote_plan_usage")
    shown = show_page(turn.session, turn.open_board, turn.messages, turn.model, grouping, 0)
    turn.out.answer(shown.page.text, markup=shown.markup)


# ---- /measure -----------------------------------------------------------------------------------


RANGES_SHOWN = 20  # runs of numbers named in an answer; a plan with more gaps ends in "…"


def _number_ranges(numbers: Sequence[int]) -> str:
    """`1–4, 7, 9–12`: the numbers a plan has, short (at most RANGES_SHOWN runs, then "…")."""
    parts: list[str] = []
    start = previous = None
    for number in sorted(numbers):
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}–{previous}")
        start = previous = number
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}–{previous}")
    if len(parts) > RANGES_SHOWN:
        parts = [*parts[:RANGES_SHOWN], "…"]
    return ", ".join(parts)


def _person_owner(user: User) -> Owner:
    name = clean_name(user.full_name) or None
    return Owner(name=name, username=user.username, person_id=user.id)


def _replied_person(turn: Turn) -> User | None:
    target = turn.message.reply_to_message
    user = target.from_user if target is not None else None
    if user is None or user.is_bot:
        return None
    return user


def _set_owner(turn: Turn, measure: Measure, value: str) -> None:
    number = measure.number
    replied = _replied_person(turn)
    if not value and replied is not None:
        owner: Owner | None = _person_owner(replied)
    elif not value:
        raise Refusal("measure_owner_missing", number=number)
    elif clears(value):
        owner = None
    else:
        owner = parse_owner(value)
        if owner is None:
            raise Refusal("measure_owner_bad", given=value[:40], number=number)
        if owner.name is not None:
            known = chat_store.member_named(
                turn.session, chat_id=turn.open_board.chat_id, name=owner.name
            )
            owner = Owner(name=owner.name, person_id=known)
    plan_store.set_measure_owner(turn.session, measure=measure, owner=owner)
    if owner is None:
        turn.answer("measure_owner_cleared", number=number)
    else:
        turn.answer("measure_owner_set", number=number, owner=owner.shown)


def _set_due(turn: Turn, measure: Measure, value: str) -> None:
    number = measure.number
    if clears(value):
        plan_store.set_measure_due(turn.session, measure=measure, due=None)
        turn.answer("measure_due_cleared", number=number)
        return
    today = board_today(turn.open_board)
    due = parse_due(value, today)
    if due is None:
        raise Refusal("measure_due_bad", given=value[:40])
    if is_past(due, today):
        raise Refusal(
            "measure_due_past",
            due=reader_date(due, turn.messages),
            today=reader_date(today, turn.messages),
        )
    plan_store.set_measure_due(turn.session, measure=measure, due=due)
    turn.answer("measure_due_set", number=number, due=reader_date(due, turn.messages))


def _set_step(turn: Turn, measure: Measure, value: str) -> None:
    steps = turn.model.action_steps
    step = parse_step(value, len(steps))
    if step is None:
        raise Refusal("measure_step_bad", given=value[:40], number=measure.number)
    plan_store.set_measure_step(turn.session, measure=measure, step=step)
    turn.answer("measure_step_set", number=measure.number, step=step, title=steps[step - 1].title)


def _set_status(turn: Turn, measure: Measure, value: str) -> None:
    status = parse_status(value)
    if status is None:
        raise Refusal("measure_status_bad", given=value[:40])
    plan_store.set_measure_status(turn.session, measure=measure, status=status)
    turn.answer(
        "measure_status_set", number=measure.number, status=status_word(turn.messages, status)
    )


_SETTERS = {"owner": _set_owner, "due": _set_due, "step": _set_step, "status": _set_status}


@handles(board=Need.LATEST, moderator=True)
def measure_command(turn: Turn) -> None:
    """`/measure <m> owner|due|step|status <value>` (moderators; also on a closed board)."""
    words = turn.argument().split(maxsplit=2)
    if len(words) < 2:
        raise Refusal("measure_usage")
    number = parse_measure_number(words[0])
    field = _FIELDS.get(words[1].casefold())
    if number is None:
        raise Refusal("measure_usage")
    if field is None:
        raise Refusal("measure_bad_field", given=words[1][:30])
    board = turn.open_board
    measures = synced_plan(turn.session, board, turn.model)
    if not measures:
        raise Refusal("measure_no_measures")
    measure = plan_store.measure_by_number(turn.session, board=board, number=number)
    if measure is None:
        raise Refusal(
            "measure_unknown",
            given=words[0][:12],
            numbers=_number_ranges([m.number for m in measures]),
        )
    value = words[2].strip() if len(words) > 2 else ""
    if not value and field != "owner":
        raise Refusal("measure_usage")
    _SETTERS[field](turn, measure, value)


# ---- the plan message's buttons -------------------------------------------------------------------


def _grouping(letter: str) -> Grouping:
    try:
        return Grouping(letter)
    except ValueError:
        raise Refusal("button_unknown") from None


def _edit_plan(press: Press, shown: Shown) -> None:
    press.out.edit(press.message.message_id, shown.page.text, shown.markup)


@on_press(STATUS_ACTION, moderator=True, needs_open=False)
def press_status(press: Press) -> None:
    """A moderator taps `Nr. 3: offen → läuft`: the measure moves on, the page is redrawn."""
    parts = press.button.argument.split(".")
    if len(parts) != 4:
        raise Refusal("button_unknown")
    number, page = whole_number(parts[0]), whole_number(parts[2])
    target = parse_status(parts[1])
    grouping = _grouping(parts[3])
    if number is None or page is None or target is None:
        raise Refusal("button_unknown")
    board = press.board
    synced_plan(press.session, board, press.model)
    measure = plan_store.measure_by_number(press.session, board=board, number=number)
    if measure is None:
        raise Refusal("plan_measure_gone")
    now = Status(measure.status)
    if now.following() != target:
        # a button drawn before the status changed elsewhere (/measure, another tap): it
        # changes nothing, the page is redrawn with the status as it is
        press.tell("plan_status_stale", number=number, status=status_word(press.messages, now))
    else:
        plan_store.set_measure_status(press.session, measure=measure, status=target)
        press.tell("plan_status_pressed", number=number, status=status_word(press.messages, target))
    _edit_plan(press, show_page(press.session, board, press.messages, press.model, grouping, page))


@on_press(PAGE_ACTION, needs_open=False, read_only=True)
def press_page(press: Press) -> None:
    """Anyone pages through a long plan; the plan message is redrawn in place."""
    parts = press.button.argument.split(".")
    page = whole_number(parts[0]) if len(parts) == 2 else None
    if page is None:
        raise Refusal("button_unknown")
    grouping = _grouping(parts[1])
    shown = show_page(press.session, press.board, press.messages, press.model, grouping, page)
    press.tell("plan_page_pressed", page=shown.page.index + 1, pages=shown.page.count)
    _edit_plan(press, shown)


# ---- /status and the digest -----------------------------------------------------------------------


@status_section("plan")
def plan_status(
    session: Session, board: Board, messages: Messages, model: ModelText, now: datetime
) -> list[Html]:
    """`/status`: how many measures, without owner, overdue, done."""
    measures = synced_plan(session, board, model)
    return status_lines(messages, counts(measures, local_today(now, board.timezone)))


@digest_section("plan")
def plan_digest(
    session: Session, board: Board, messages: Messages, model: ModelText, now: datetime
) -> list[Html]:
    """The weekly digest: measures due in the coming week, and overdue ones.

    Reads the measures as they are (the digest is sent by the sweep, outside the chat's order
    of updates); a measure has a due date only after a /measure that synchronised it.
    """
    measures = plan_store.plan_measures(session, board=board)
    soon, late = due_within(measures, local_today(now, board.timezone), DIGEST_DAYS)
    return digest_lines(model, messages, soon, late)


# ---- the day-before follow-up -------------------------------------------------------------------


@dataclass
class _FollowUp:
    board: Board
    due: date
    at: datetime  # the claimed instant: the day before `due`, at the board's reminder time
    measures: list[MeasureView]


def _due_follow_ups(unit: UnitOfWork, now: datetime) -> list[_FollowUp]:
    """Boards with measures due the day after a reminder time that has come (at most
    CATCH_UP_LIMIT ago) and whose note is not claimed yet."""
    first, last = followup_window(now, CATCH_UP_LIMIT)
    found: dict[tuple[int, datetime], _FollowUp] = {}
    session = unit.session
    for board, measure in plan_store.measures_due_between(session, first=first, last=last):
        assert board.id is not None
        assert measure.due is not None
        at = followup_instant(measure.due, parse_hhmm(board.remind_time), board.timezone)
        if at > now or now - at > CATCH_UP_LIMIT:
            continue
        key = (board.id, at)
        if key not in found:
            found[key] = _FollowUp(board, measure.due, at, [])
        found[key].measures.append(measure)
    pending = [
        follow_up
        for (board_id, at), follow_up in found.items()
        if not schedule_store.is_claimed(session, board_id=board_id, kind=FOLLOWUP, due_at=at)
    ]
    unit.commit()
    return pending


@sweeper("followup")
async def followup_sweep(context: Context, now: datetime) -> int:
    """Name the measures due tomorrow in their group, once per board and day; how many sent."""
    sent = 0
    # boards of several chats: no chat's lane
    due = await context.bot_data.run_unit(None, lambda unit: _due_follow_ups(unit, now))
    for follow_up in due:
        if await _follow_up(context, follow_up):
            sent += 1
    return sent


async def _follow_up(context: Context, follow_up: _FollowUp) -> bool:
    data = context.bot_data
    board = follow_up.board
    assert board.id is not None
    text = followup_text(
        data.model(board.language), data.messages(board.language), follow_up.measures, follow_up.due
    )
    out = Outbox(board.chat_id, board.thread_id)
    board_id = board.id

    def claim(unit: UnitOfWork) -> bool | None:
        """Whether the group is active (None: another process claimed it)."""
        session = unit.session
        active = chat_store.chat_is_active(session, board.chat_id)
        outcome = "sending" if active else "skipped_inactive"
        if not schedule_store.claim_due(
            session, board_id=board_id, kind=FOLLOWUP, due_at=follow_up.at, outcome=outcome
        ):
            return None
        if active:  # stored with the claim (SPEC §12): a crash after it still sends it
            out.post(text)
            unit.store(out)
        unit.commit()
        return active

    if not await data.run_unit(board.chat_id, claim):  # claimed elsewhere, or not active
        return False
    result = "sent"
    try:
        await out.deliver(context)
    except ChatGone:
        result = "chat_gone"
    except Exception:
        log.exception("follow-up of board %s could not be sent", board.id)
        result = "failed"

    def record(unit: UnitOfWork) -> None:
        schedule_store.record_reminder_outcome(
            unit.session, board_id=board_id, due_at=follow_up.at, outcome=result, kind=FOLLOWUP
        )
        unit.commit()

    await data.run_unit(board.chat_id, record)
    return result == "sent"
