"""The durable outbox's rows (SPEC §12): sends stored with the effects that decided them."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlmodel import Session, col

from bot.store.erasure import board_eraser, person_eraser
from bot.store.tables import Board, OutboxSend, utcnow

SENT = "sent"
DROPPED = "dropped"  # too old when it could finally go out
REFUSED = "refused"  # Telegram refused it for good (the chat is gone, a bad request)
SUPERSEDED = "superseded"  # a newer answer to the same read-only command went out instead

# This process, as the owner of the rows it delivers; a row is its own until `claimed_until`.
OWNER = f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
CLAIM_LIMIT = 1000  # rows claimed at a time
LEASE = timedelta(seconds=30)  # renewed by the owner's heartbeat (bot/handlers/core/outbox.py)


def set_lease(seconds: float) -> None:
    """The claims' lease, from the settings (OUTBOX_LEASE_SECONDS)."""
    global LEASE
    LEASE = timedelta(seconds=seconds)


def keep_claims(session: Session, *, owner: str = OWNER) -> int:
    """The owner's heartbeat: its claims on unsent rows hold for another lease."""
    result = session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.claimed_by) == owner, col(OutboxSend.sent_at).is_(None))
        .values(claimed_until=utcnow() + LEASE)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release_claims(session: Session, *, owner: str = OWNER) -> int:
    """At a stop: the owner's unsent rows are free for the next start (or another process)."""
    result = session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.claimed_by) == owner, col(OutboxSend.sent_at).is_(None))
        .values(claimed_by=None, claimed_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def add_sends(
    session: Session, *, sends: Sequence[tuple[int, str, str]], update_id: int | None
) -> list[int]:
    """Store sends (chat id, kind, JSON) in the caller's unit of work; their ids, in order."""
    until = utcnow() + LEASE  # this process sends them after the commit
    rows = [
        OutboxSend(
            chat_id=chat_id,
            update_id=update_id,
            kind=kind,
            payload=payload,
            claimed_by=OWNER,
            claimed_until=until,
        )
        for chat_id, kind, payload in sends
    ]
    session.add_all(rows)
    session.flush()
    return [int(row.id) for row in rows if row.id is not None]


def settle_send(session: Session, *, send_id: int, outcome: str) -> None:
    """Mark a send done: sent, refused for good or dropped."""
    session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.id) == send_id, col(OutboxSend.sent_at).is_(None))
        .values(sent_at=utcnow(), outcome=outcome, payload="{}")  # the text is not kept
    )


def forget_send(session: Session, *, send_id: int) -> None:
    """A send whose text named what was just erased is done: no copy of its row is kept (not
    even the chat it went to: a private chat's id is the person's)."""
    session.execute(delete(OutboxSend).where(col(OutboxSend.id) == send_id))


def note_progress(session: Session, *, send_id: int, payload: str) -> None:
    """Store how far a send of several parts got (its arguments with the parts done)."""
    session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.id) == send_id, col(OutboxSend.sent_at).is_(None))
        .values(payload=payload)
    )


def _free(now: datetime) -> ColumnElement[bool]:
    """Unsent and claimed by no living process (never, or its lease ran out)."""
    return and_(
        col(OutboxSend.sent_at).is_(None),
        or_(col(OutboxSend.claimed_until).is_(None), col(OutboxSend.claimed_until) < now),
    )


def claim_unsent(
    session: Session,
    *,
    owner: str = OWNER,
    limit: int = CLAIM_LIMIT,
    others_only: bool = False,
    take_over: bool = False,
) -> list[OutboxSend]:
    """Claim unsent rows no other living process holds (left from before a stop or a crash, or
    by a process whose lease ran out), oldest first, for `owner`; commits. Two processes never
    claim the same row: PostgreSQL skips rows another claim has locked, SQLite has one writer,
    and the update claims only rows still free. `others_only`: not the rows this process
    claimed itself (they wait in its own senders and renew their claim when they go out).
    `take_over`: every unsent row, whoever claimed it and however long its lease still runs —
    for a process starting on SQLite, where no other process can exist (one writer by
    design): a killed process's rows go out at once, not after their lease (never the
    owner's own rows, which wait in its senders)."""
    now = utcnow()
    free = col(OutboxSend.sent_at).is_(None) if take_over else _free(now)
    if others_only or take_over:
        free = and_(
            free,
            or_(col(OutboxSend.claimed_by).is_(None), col(OutboxSend.claimed_by) != owner),
        )
    ids = list(
        session.scalars(
            select(col(OutboxSend.id))
            .where(free)
            .order_by(col(OutboxSend.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )
    if not ids:
        session.commit()
        return []
    session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.id).in_(ids), free)
        .values(claimed_by=owner, claimed_until=now + LEASE)
    )
    session.commit()
    return list(
        session.scalars(
            select(OutboxSend)
            .where(
                col(OutboxSend.id).in_(ids),
                col(OutboxSend.claimed_by) == owner,
                col(OutboxSend.sent_at).is_(None),
            )
            .order_by(col(OutboxSend.id))
        ).all()
    )


def renew_claim(session: Session, *, send_id: int, owner: str = OWNER) -> datetime | None:
    """Keep a row this process holds for another lease; None when it is no longer its own
    (taken over after the lease ran out, or sent)."""
    until = utcnow() + LEASE
    result = session.execute(
        update(OutboxSend)
        .where(
            col(OutboxSend.id) == send_id,
            col(OutboxSend.claimed_by) == owner,
            col(OutboxSend.sent_at).is_(None),
        )
        .values(claimed_until=until)
    )
    return until if int(result.rowcount) == 1 else None  # type: ignore[attr-defined]


def unsent_of(session: Session, *, ids: Sequence[int], owner: str = OWNER) -> list[OutboxSend]:
    """Of the rows `ids`, those still unsent and the owner's, oldest first (a chat's sends
    waiting in its sender past the ones kept in memory are read back when their turn comes)."""
    return list(
        session.scalars(
            select(OutboxSend)
            .where(
                col(OutboxSend.id).in_(list(ids)),
                col(OutboxSend.claimed_by) == owner,
                col(OutboxSend.sent_at).is_(None),
            )
            .order_by(col(OutboxSend.id))
        ).all()
    )


def settle_sends(session: Session, *, send_ids: Sequence[int], outcome: str) -> None:
    """Mark several sends done at once (a coalesced answer's rows: superseded)."""
    if not send_ids:
        return
    session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.id).in_(list(send_ids)), col(OutboxSend.sent_at).is_(None))
        .values(sent_at=utcnow(), outcome=outcome, payload="{}")
    )


def unsent(session: Session, *, limit: int = 1000) -> list[OutboxSend]:
    """Sends not yet made, oldest first."""
    return list(
        session.scalars(
            select(OutboxSend)
            .where(col(OutboxSend.sent_at).is_(None))
            .order_by(col(OutboxSend.id))
            .limit(limit)
        ).all()
    )


def purge_sent(session: Session, *, before: datetime) -> int:
    """Forget sends made (or dropped) before `before`; how many."""
    result = session.execute(
        delete(OutboxSend).where(
            col(OutboxSend.sent_at).is_not(None), col(OutboxSend.sent_at) < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@person_eraser("outbox")
def forget_person(session: Session, person_id: int) -> dict[int, int]:
    """Sends to the person's private chat, and sends that name the person (a mention)."""
    result = session.execute(
        delete(OutboxSend).where(
            or_(
                col(OutboxSend.chat_id) == person_id,
                col(OutboxSend.payload).contains(f"id={person_id}", autoescape=True),
            )
        )
    )
    removed = int(result.rowcount)  # type: ignore[attr-defined]
    return {0: removed} if removed else {}


@board_eraser("outbox")
def erase_board_rows(session: Session, board_id: int) -> int:
    """Sends made in the board's chat (the texts they carried name the board's entries)."""
    board = session.get(Board, board_id)
    if board is None:
        return 0
    result = session.execute(
        delete(OutboxSend).where(
            col(OutboxSend.chat_id) == board.chat_id, col(OutboxSend.sent_at).is_not(None)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
