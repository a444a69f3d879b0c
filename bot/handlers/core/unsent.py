"""The outbox after a stop or a crash (SPEC §12): what a process left unsent goes out on the
next start, in order per chat and ahead of the chats' new sends; a living process takes over
the rows of one that died; sent rows are forgotten after a day.

On SQLite only one process can exist (one writer by design), so a starting process takes over
every unsent row at once, whatever claim a killed process left on it.

On PostgreSQL several processes share the outbox, and a chat's rows go out from the one that
holds the chat (bot/handlers/core/chat_claims.py), in row-id order, whoever stored them: when the
chat's sends here are through, its sender reads the rows others left meanwhile and sends them,
until none is left, and lets the chat go (`send_left`). A chat with unsent rows nobody holds (its
holder stopped, or died and its lease ran out: OUTBOX_LEASE_SECONDS) is taken at the start and
then by every heartbeat, a third of the lease apart (`take_chats`)."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from telegram.ext import Application, CallbackContext

from bot import metrics
from bot.context import Context
from bot.handlers.core import chat_claims
from bot.handlers.core.chat_claims import ChatDelivery
from bot.handlers.core.outbox import KEEP_SENT, KEEP_UNSENT, Planned
from bot.handlers.core.send import ChatGone
from bot.store import outbox as rows
from bot.store import outbox_chats
from bot.store.tables import OutboxSend, utcnow
from bot.store.unit import UnitOfWork
from bot.updates.senders import ChatSenders

log = logging.getLogger(__name__)


async def release(data: Any) -> None:
    """At a stop, after the senders' grace: this process's unsent rows (and the chats it held)
    are free to take."""
    chats = chat_claims.of_engine(data.engine) is not None
    chat_claims.stop(data.engine)

    def free(unit: UnitOfWork) -> int:
        session = unit.session
        released = rows.release_claims(session)
        if chats:
            outbox_chats.release_chats(session)
        unit.commit()
        return released

    released = await data.run_unit(None, free)
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
    delivery = None if senders is None else chat_claims.start(data.engine, senders)
    if senders is not None and delivery is not None:
        senders.when_dry(functools.partial(send_left, context, delivery))
    try:
        if delivery is not None:
            while await take_chats(context, delivery) >= rows.CLAIM_LIMIT:
                pass  # more than one round's chats were left
        else:
            take_over = _one_process(data)
            while (
                await deliver_claimed(context, senders, others_only=False, take_over=take_over)
                >= rows.CLAIM_LIMIT
            ):
                pass  # more than one round's rows were left
    finally:
        if queued is not None:
            queued.set()

    def heartbeat(chats: list[int], unit: UnitOfWork) -> None:
        rows.keep_claims(unit.session)
        if chats:
            outbox_chats.keep_chats(unit.session, chat_ids=chats)
        unit.commit()

    while True:
        # a third of the lease: the claims of a living process never run out
        await asyncio.sleep(rows.LEASE.total_seconds() / 3)
        try:
            chats = [] if delivery is None else delivery.senders.active()
            await data.run_unit(None, functools.partial(heartbeat, chats))
            if delivery is not None:
                await take_chats(context, delivery)
            else:
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

    def claim(unit: UnitOfWork) -> list[OutboxSend]:
        session = unit.session
        return rows.claim_unsent(session, others_only=others_only, take_over=take_over)

    pending = await data.run_unit(None, claim)
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


async def take_chats(context: Context, delivery: ChatDelivery) -> int:
    """Several processes: take the chats with unsent rows nobody holds, and send their rows
    from the chats' senders (`send_left`); how many chats were taken."""
    data = context.bot_data

    def take(unit: UnitOfWork) -> list[int]:
        session = unit.session
        return outbox_chats.take_orphans(session)

    chats = await data.run_unit(None, take)
    if chats:
        log.info("outbox: %s chats with sends left unsent, sending them", len(chats))
    for chat_id in chats:
        delivery.wake(chat_id)
    return len(chats)


async def send_left(context: Context, delivery: ChatDelivery, chat_id: int) -> None:
    """Several processes: the chat's sends here are through. Send the chat's unsent rows,
    whoever stored them, in row-id order, until none is left; the last, empty read lets the
    chat go (bot/store/outbox_chats.py). A row that fails is left unsent (marked failed here)."""
    data = context.bot_data

    def read(skip: list[int], unit: UnitOfWork) -> list[OutboxSend] | None:
        return outbox_chats.next_rows(unit.session, chat_id=chat_id, skip=skip)

    while True:
        pending = await data.run_unit(chat_id, functools.partial(read, delivery.failed(chat_id)))
        if not pending:  # let go (or no longer this process's)
            return
        for row in pending:
            if row.id is not None:
                delivery.note_drained(row.id)
        too_old = utcnow() - KEEP_UNSENT
        for index, row in enumerate(pending):
            planned = Planned.of_row(row)
            if row.created_at < too_old:
                await planned.settle(context, rows.DROPPED)
                metrics.outbox_dropped()
                continue
            try:
                await planned.send(context)
            except ChatGone:  # this one marked refused; the rest of the round is left
                for left in pending[index + 1 :]:
                    if left.id is not None:
                        delivery.note_failed(left.id, chat_id)
                break
            except Exception as exc:  # refused for good (marked) or the network: left
                log.warning("outbox: a send to %s failed: %s", chat_id, type(exc).__name__)
            if planned.outcome is None and planned.row_id is not None:
                delivery.note_failed(planned.row_id, chat_id)


async def purge(data: Any) -> int:
    """Forget sends made more than a day ago."""

    def forget(unit: UnitOfWork) -> int:
        session = unit.session
        removed = rows.purge_sent(session, before=utcnow() - KEEP_SENT)
        unit.commit()
        return removed

    return int(await data.run_unit(None, forget))
