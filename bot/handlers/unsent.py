"""The outbox after a stop or a crash (SPEC §12): what a process left unsent goes out on the
next start, in order per chat and ahead of the chats' new sends; a living process takes over
the rows of one that died; sent rows are forgotten after a day.

On SQLite only one process can exist (one writer by design), so a starting process takes over
every unsent row at once, whatever claim a killed process left on it; on PostgreSQL a dead
process's rows are taken over once their lease ran out (OUTBOX_LEASE_SECONDS)."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from telegram.ext import Application, CallbackContext

from bot import metrics
from bot.context import Context
from bot.handlers.outbox import KEEP_SENT, KEEP_UNSENT, Planned
from bot.handlers.send import ChatGone
from bot.store import outbox as rows
from bot.store.tables import OutboxSend, utcnow
from bot.updates.senders import ChatSenders

log = logging.getLogger(__name__)


def release(data: Any) -> None:
    """At a stop, after the senders' grace: this process's unsent rows are free to take."""
    with data.session() as session:
        released = rows.release_claims(session)
        session.commit()
    if released:
        log.info("outbox: %s sends left for the next start", released)


async def deliver_unsent(
    application: Application[Any, Any, Any, Any, Any, Any],
    senders: ChatSenders | None = None,
    queued: asyncio.Event | None = None,
) -> None:
    """Send what the outbox holds unsent from before a stop or a crash, in order per chat
    (handed to the chats' senders, ahead of anything the chats' new updates send); drop what
    is older than 12 hours by now (counted). Then, for as long as the process runs, take over
    now and then the rows of processes that died (their claims' leases ran out). `queued` is
    set once the rows from before are in the senders' queues."""
    context: Context = CallbackContext(application)
    data = context.bot_data
    try:
        take_over = _one_process(data)
        while (
            await deliver_claimed(context, senders, others_only=False, take_over=take_over)
            >= rows.CLAIM_LIMIT
        ):
            pass  # more than one round's rows were left
    finally:
        if queued is not None:
            queued.set()

    def heartbeat() -> None:
        with data.session() as session:
            rows.keep_claims(session)
            session.commit()

    while True:
        # a third of the lease: the claims of a living process never run out
        await asyncio.sleep(rows.LEASE.total_seconds() / 3)
        try:
            await data.lanes.run(None, heartbeat)
            await deliver_claimed(context, senders, others_only=True)
        except Exception as exc:  # the database away for a moment: the next round
            log.warning("outbox: taking over unsent rows failed: %s", type(exc).__name__)


def _one_process(data: Any) -> bool:
    """Whether no other process can share the database (SQLite: one writer by design)."""
    return bool(data.engine.dialect.name == "sqlite")


async def deliver_claimed(
    context: Context,
    senders: ChatSenders | None,
    *,
    others_only: bool,
    take_over: bool = False,
) -> int:
    """Claim the unsent rows no living process holds (`take_over`: every unsent row) and send
    them, in order per chat (in the chats' senders, or here when there are none); how many
    were claimed."""
    data = context.bot_data

    def claim() -> list[OutboxSend]:
        with data.session() as session:
            return rows.claim_unsent(session, others_only=others_only, take_over=take_over)

    pending = await data.lanes.run(None, claim)
    if not pending:
        return 0
    log.info("outbox: %s sends left unsent, sending them", len(pending))
    per_chat: dict[int, list[Planned]] = {}
    too_old = utcnow() - KEEP_UNSENT
    for row in pending:
        planned = Planned.of_row(row)
        if row.created_at < too_old:
            await planned.settle(context, rows.DROPPED)
            metrics.outbox_dropped()
            continue
        per_chat.setdefault(row.chat_id, []).append(planned)

    async def chat_in_order(sends: list[Planned]) -> None:
        for planned in sends:
            try:
                await planned.send(context)
            except ChatGone:
                return
            except Exception as exc:  # refused for good (marked) or the network: next start
                log.warning("outbox: a send to %s failed: %s", planned.chat_id, type(exc).__name__)

    in_line = []
    for chat_id, sends in per_chat.items():
        run = functools.partial(chat_in_order, sends)
        if senders is None or not senders.put(chat_id, run):
            in_line.append(run())
    await asyncio.gather(*in_line)
    return len(pending)


def purge(data: Any) -> int:
    """Forget sends made more than a day ago."""
    with data.session() as session:
        removed = rows.purge_sent(session, before=utcnow() - KEEP_SENT)
        session.commit()
        return removed
