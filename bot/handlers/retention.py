"""Retention (SPEC §11): a board closed for longer than RETENTION_DAYS is deleted by the sweep.

The group is told once, 7 days before (a claim per board and closing, so never twice, across
processes and restarts); the deletion waits until the notice is 7 days old, so a board closed
long ago when the rule is first applied still gets its week. A /reopen stops it; closing again
starts the count anew.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import InlineKeyboardMarkup

from bot.context import BotData, Context
from bot.handlers.core.buttons import button
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.send import ChatGone
from bot.handlers.core.sweep import sweeper
from bot.handlers.privacy import EXPORT
from bot.render.dates import reader_date
from bot.render.when import local_time
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import retention as retention_store
from bot.store import schedules as schedule_store
from bot.store.erasure import erase_board
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Html

log = logging.getLogger(__name__)

NOTICE_AHEAD = timedelta(days=7)
BATCH = 20


@dataclass(frozen=True)
class Notice:
    """A claimed notice, to be sent after the claim's commit."""

    board_id: int
    chat_id: int
    thread_id: int
    closed_at: datetime
    text: Html
    markup: InlineKeyboardMarkup | None
    active: bool
    out: Outbox  # the notice, stored with the claim (SPEC §12)


@sweeper("retention")
async def sweep(context: Context, now: datetime) -> int:
    """Tell groups whose closed board is due for deletion, and delete those told a week ago."""
    data = context.bot_data
    keep = timedelta(days=data.settings.retention_days)
    sent = 0
    for notice in await _claim_notices(data, now, keep):
        sent += await _send(context, notice)
    deleted = await _retire(data, now, keep)
    return sent + deleted


async def _claim_notices(data: BotData, now: datetime, keep: timedelta) -> list[Notice]:
    """Claim the notice of every board due for one, each in its own commit (in its chat's lane)."""
    notices: list[Notice] = []
    tried: set[int] = set()

    def due(unit: UnitOfWork) -> list[Board]:
        boards = [
            b
            for b in retention_store.boards_to_warn(
                unit.session, closed_before=now - keep + NOTICE_AHEAD, limit=BATCH
            )
            if b.id not in tried
        ]
        unit.commit()
        return boards

    def claim(unit: UnitOfWork, board: Board) -> Notice | None:
        if not retention_store.claim_retention_notice(unit.session, board=board, now=now):
            return None  # another process tells this group
        notice = _notice(data, board, now, keep, unit.session)
        unit.store(notice.out)  # a crash after the claim still sends it
        unit.commit()
        return notice

    while True:
        boards = await data.run_unit(None, due)
        if not boards:
            return notices
        for board in boards:
            assert board.id is not None
            assert board.closed_at is not None
            tried.add(board.id)
            notice = await data.run_unit(board.chat_id, functools.partial(claim, board=board))
            if notice is not None:
                notices.append(notice)


def _notice(
    data: BotData, board: Board, now: datetime, keep: timedelta, session: Session
) -> Notice:
    assert board.id is not None
    assert board.closed_at is not None
    messages = data.messages(board.language)
    deleted_at = max(board.closed_at + keep, now + NOTICE_AHEAD)
    closed = board.closed_at.astimezone(ZoneInfo(board.timezone)).date()
    text = messages(
        "retention_notice",
        title=board.title,
        closed=reader_date(closed, messages),
        days=data.settings.retention_days,
        when=local_time(deleted_at, board.timezone, messages.language),
    )
    markup = InlineKeyboardMarkup(
        [[button(messages.plain("privacy_export_button"), EXPORT, board.id)]]
    )
    active = chat_store.chat_is_active(session, board.chat_id)
    out = Outbox(board.chat_id, board.thread_id)
    if active:
        out.post(text, markup=markup)
    return Notice(
        board_id=board.id,
        chat_id=board.chat_id,
        thread_id=board.thread_id,
        closed_at=board.closed_at,
        text=text,
        markup=markup,
        active=active,
        out=out,
    )


async def _send(context: Context, notice: Notice) -> int:
    outcome = "sent"
    if not notice.active:
        outcome = "skipped_inactive"
    else:
        try:
            await notice.out.deliver(context)
        except ChatGone:
            outcome = "chat_gone"
        except Exception:
            log.exception("retention notice of board %s could not be sent", notice.board_id)
            outcome = "failed"

    def record(unit: UnitOfWork) -> None:
        schedule_store.record_reminder_outcome(
            unit.session,
            board_id=notice.board_id,
            due_at=notice.closed_at,
            outcome=outcome,
            kind=retention_store.RETENTION_NOTICE,
        )
        unit.commit()

    await context.bot_data.run_unit(notice.chat_id, record)
    return 1 if outcome == "sent" else 0


async def _retire(data: BotData, now: datetime, keep: timedelta) -> int:
    """Delete every board closed longer than kept whose group was told a week ago (or more)."""

    def retire(unit: UnitOfWork) -> int | None:
        """Delete one batch in one commit: how many (None: nothing was left, or it changed)."""
        session = unit.session
        boards = retention_store.boards_to_retire(
            session, closed_before=now - keep, noticed_before=now - NOTICE_AHEAD, limit=BATCH
        )
        if not boards:
            return None
        for board in boards:
            assert board.id is not None
            erase_board(session, board.id)
            if not board_store.delete_board_row(
                session, board_id=board.id, closed_at=board.closed_at
            ):  # reopened or deleted meanwhile: keep everything of this batch as it was
                session.rollback()
                log.warning("retention of board %s given up: it changed", board.id)
                return None
        unit.commit()
        return len(boards)

    deleted = 0
    while True:
        batch = await data.run_unit(None, retire)  # boards of several chats: no chat's lane
        if batch is None:
            return deleted
        deleted += batch
        log.info("deleted %s boards closed longer than %s days", batch, keep.days)
