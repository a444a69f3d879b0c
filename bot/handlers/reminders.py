"""Weekly reminders about empty fields: /remind, /timezone, and the sweep that sends them."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from telegram import Update

from bot.context import Context
from bot.handlers.board import reminder_description
from bot.handlers.common import answer, command_arguments, parse_argument, require_board
from bot.handlers.outputs import local_time
from bot.handlers.send import ChatGone, send_html
from bot.model.arguments import parse_time_of_day, parse_timezone, parse_weekday
from bot.model.board import BoardView
from bot.model.catalogue import ModelText
from bot.model.schedule import CATCH_UP_LIMIT, next_due, parse_hhmm
from bot.render.split import pack
from bot.store import queries
from bot.store.tables import Board, Card
from bot.texts import Html, Messages, escape

log = logging.getLogger(__name__)
SWEEP_BATCH = 50


async def remind(update: Update, context: Context) -> None:
    """`/remind <weekday> <HH:MM>` or `/remind off`."""
    found = await require_board(update, context, moderator=True)
    if found is None:
        return
    message, board = found
    messages = context.bot_data.messages(board.language)
    words = command_arguments(message).split()
    if len(words) == 1 and words[0].casefold() in ("off", "aus", "stop"):
        weekday, at, next_at = None, board.remind_time, None
    elif len(words) == 2:
        weekday = parse_weekday(words[0])
        if weekday is None:
            await answer(context, message, messages("remind_bad_weekday", given=words[0][:30]))
            return
        moment = parse_time_of_day(words[1])
        if moment is None:
            await answer(context, message, messages("remind_bad_time", given=words[1][:30]))
            return
        at = f"{moment:%H:%M}"
        next_at = next_due(datetime.now(UTC), weekday, moment, board.timezone)
    else:
        await answer(context, message, messages("remind_usage"))
        return
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        queries.set_reminder(
            session, board=stored, weekday=weekday, at=at, timezone=stored.timezone, next_at=next_at
        )
        session.commit()
    if weekday is None or next_at is None:
        await answer(context, message, messages("remind_off"))
        return
    await answer(
        context,
        message,
        messages(
            "remind_set",
            weekday=messages.weekday(weekday),
            time=at,
            zone=board.timezone,
            when=local_time(board, next_at),
        ),
    )


async def timezone(update: Update, context: Context) -> None:
    """`/timezone <Area/City>`: the zone of the board's reminder (wall-clock time kept)."""
    found = await require_board(update, context, moderator=True)
    if found is None:
        return
    message, board = found
    messages = context.bot_data.messages(board.language)
    zone = await parse_argument(
        context,
        message,
        messages,
        parse_timezone,
        usage="timezone_usage",
        unknown="timezone_unknown",
    )
    if zone is None:
        return
    with context.bot_data.session() as session:
        stored = session.get(Board, board.id)
        assert stored is not None
        next_at = (
            next_due(datetime.now(UTC), stored.remind_weekday, parse_hhmm(stored.remind_time), zone)
            if stored.remind_weekday is not None
            else None
        )
        queries.set_reminder(
            session,
            board=stored,
            weekday=stored.remind_weekday,
            at=stored.remind_time,
            timezone=zone,
            next_at=next_at,
        )
        session.commit()
        board = stored
    await answer(
        context,
        message,
        messages("timezone_set", zone=zone, reminder=reminder_description(context, board)),
    )


def card_link(chat_id: int, thread_id: int, message_id: int) -> str | None:
    """A t.me/c link to a message in a supergroup; basic groups have none."""
    text = str(chat_id)
    if not text.startswith("-100"):
        return None
    internal = text[4:]
    if thread_id:
        return f"https://t.me/c/{internal}/{thread_id}/{message_id}"
    return f"https://t.me/c/{internal}/{message_id}"


def reminder_text(
    model: ModelText, messages: Messages, view: BoardView, cards: dict[int, Card], thread_id: int
) -> list[Html]:
    """The reminder: empty points grouped by area, each linked to its latest card."""
    empty = set(view.empty_points)
    blocks: list[Html] = [
        messages("reminder_title", title=view.title, count=len(empty), total=view.point_count)
    ]
    for area in model.areas:
        points = [p for p in area.points if p in empty]
        if not points:
            continue
        lines = [f"\n<b>{area.number}. {escape(area.name)}</b>"]
        for number in points:
            heading = model.point(number).heading
            card = cards.get(number)
            link = card_link(card.chat_id, thread_id, card.message_id) if card is not None else None
            if link is not None:
                lines.append("• " + messages("reminder_point_link", link=link, point=heading))
            else:
                lines.append(f"• {escape(heading)}")
        blocks.append(Html("\n".join(lines)))
    blocks.append(Html("\n" + messages("reminder_how")))
    return pack(blocks)


def _decide(board: Board, due: datetime, now: datetime, view: BoardView, active: bool) -> str:
    if now - due > CATCH_UP_LIMIT:
        return "skipped_late"
    if view.is_complete:
        return "skipped_complete"
    if not active:
        return "skipped_inactive"
    return "sending"


async def sweep(context: Context) -> int:
    """Claim and send every due reminder; returns how many were sent."""
    data = context.bot_data
    sent = 0
    tried: set[int] = set()
    while True:
        now = datetime.now(UTC)
        with data.session() as session:
            batch = [
                b
                for b in queries.due_boards(session, now=now, limit=SWEEP_BATCH)
                if b.id not in tried
            ]
            session.commit()
        if not batch:
            return sent
        for board in batch:
            assert board.id is not None
            tried.add(board.id)
            if await _remind_one(context, board, now):
                sent += 1


async def _remind_one(context: Context, board: Board, now: datetime) -> bool:
    data = context.bot_data
    due = board.next_reminder_at
    if due is None or board.remind_weekday is None or board.id is None:
        return False
    next_at = next_due(
        max(now, due), board.remind_weekday, parse_hhmm(board.remind_time), board.timezone
    )
    with data.session() as session:
        view = queries.board_view(session, board)
        outcome = _decide(board, due, now, view, queries.chat_is_active(session, board.chat_id))
        if not queries.claim_reminder(
            session, board_id=board.id, due_at=due, next_at=next_at, outcome=outcome
        ):
            return False
        cards = queries.latest_cards(session, board.id)
        session.commit()
    if outcome != "sending":
        log.info("reminder of board %s due %s: %s", board.id, due.isoformat(), outcome)
        return False
    model = data.model(board.language)
    texts = reminder_text(model, data.messages(board.language), view, cards, board.thread_id)
    result = "sent"
    try:
        for text in texts:
            await send_html(context, board.chat_id, board.thread_id, text)
    except ChatGone:
        result = "chat_gone"
    except Exception:
        log.exception("reminder of board %s could not be sent", board.id)
        result = "failed"
    with data.session() as session:
        queries.record_reminder_outcome(session, board_id=board.id, due_at=due, outcome=result)
        session.commit()
    return result == "sent"


async def sweep_job(context: Context) -> None:
    """The periodic JobQueue callback."""
    try:
        await sweep(context)
    except asyncio.CancelledError:
        # the bot is shutting down; what was claimed stays claimed, the rest is due next start
        log.info("reminder sweep interrupted by shutdown")
    except Exception:
        log.exception("reminder sweep failed")
