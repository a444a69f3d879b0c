"""Which process sends a chat's outbox rows (SPEC §12; several processes on PostgreSQL only).

A chat's rows go out in row-id order only if one process sends all of them: the chat's holder
(`outbox_chat`: owner and lease, renewed by the holder's heartbeat while it works on the chat).
A unit of work that stores rows for a chat first tries to take the chat (`take_chat`, before its
rows get their ids); when another living process holds it, the rows are left to that process.
The holder reads the chat's unsent rows, whoever stored them (`next_rows`), until none is left,
and lets the chat go in the same transaction as the last, empty read.

Why no row is left behind: taking a chat locks its claim row until the unit of work commits,
whether it got the chat or not; the holder's last read locks the claim row first, so it waits
for any such unit of work, and then sees its rows and keeps the chat. A chat nobody holds while
it has unsent rows (its holder died, or stopped) is taken by a process's heartbeat
(`take_orphans`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from bot.store import outbox as sends
from bot.store.outbox import CLAIM_LIMIT, OWNER
from bot.store.tables import OutboxChat, OutboxSend, utcnow


def take_chat(session: Session, *, chat_id: int, owner: str = OWNER) -> bool:
    """In the caller's transaction: make `owner` the chat's holder unless another process holds
    it (its lease still runs); whether `owner` holds it now. The claim row stays locked until
    the caller's commit, either way."""
    now = utcnow()
    statement = insert(OutboxChat).values(
        chat_id=chat_id, owner=owner, lease_until=now + sends.LEASE
    )
    taking = statement.on_conflict_do_update(
        index_elements=[col(OutboxChat.chat_id)],
        set_={"owner": statement.excluded.owner, "lease_until": statement.excluded.lease_until},
        where=or_(col(OutboxChat.owner) == owner, col(OutboxChat.lease_until) < now),
    ).returning(col(OutboxChat.owner))
    return session.execute(taking).scalar_one_or_none() == owner


def others_waiting(session: Session, *, chat_id: int, owner: str = OWNER) -> bool:
    """Whether the chat has unsent rows `owner` did not store or take (a dead holder's, or
    rows another process left to it): its new rows then go out behind them, read back."""
    found = session.scalar(
        select(col(OutboxSend.id))
        .where(
            col(OutboxSend.chat_id) == chat_id,
            col(OutboxSend.sent_at).is_(None),
            or_(col(OutboxSend.claimed_by).is_(None), col(OutboxSend.claimed_by) != owner),
        )
        .limit(1)
    )
    return found is not None


def next_rows(
    session: Session,
    *,
    chat_id: int,
    owner: str = OWNER,
    skip: Collection[int] = (),
    limit: int = CLAIM_LIMIT,
) -> list[OutboxSend] | None:
    """The holder's next unsent rows of the chat (not those in `skip`: they failed here), in
    id order, taken over from whoever stored them; commits. None left: the chat is let go in
    the same transaction (after waiting for any unit of work that tried to take it meanwhile,
    whose rows are then read and the chat kept). None: `owner` no longer holds the chat."""
    now = utcnow()
    held = session.scalar(
        select(col(OutboxChat.chat_id))
        .where(col(OutboxChat.chat_id) == chat_id, col(OutboxChat.owner) == owner)
        .with_for_update()
    )
    if held is None:
        session.commit()
        return None
    waiting = select(col(OutboxSend.id)).where(
        col(OutboxSend.chat_id) == chat_id, col(OutboxSend.sent_at).is_(None)
    )
    if skip:
        waiting = waiting.where(col(OutboxSend.id).not_in(list(skip)))
    ids = list(session.scalars(waiting.order_by(col(OutboxSend.id)).limit(limit)).all())
    if not ids:
        session.execute(
            delete(OutboxChat).where(
                col(OutboxChat.chat_id) == chat_id, col(OutboxChat.owner) == owner
            )
        )
        session.commit()
        return []
    until = now + sends.LEASE
    session.execute(
        update(OutboxSend)
        .where(col(OutboxSend.id).in_(ids), col(OutboxSend.sent_at).is_(None))
        .values(claimed_by=owner, claimed_until=until)
    )
    session.execute(
        update(OutboxChat).where(col(OutboxChat.chat_id) == chat_id).values(lease_until=until)
    )
    session.commit()
    return list(
        session.scalars(
            select(OutboxSend)
            .where(col(OutboxSend.id).in_(ids), col(OutboxSend.sent_at).is_(None))
            .order_by(col(OutboxSend.id))
        ).all()
    )


def keep_chats(session: Session, *, chat_ids: Sequence[int], owner: str = OWNER) -> int:
    """The holder's heartbeat: the chats it still works on hold for another lease (a chat it
    no longer works on is not renewed: its claim runs out, and its rows are taken over)."""
    kept = 0
    until = utcnow() + sends.LEASE
    for start in range(0, len(chat_ids), CLAIM_LIMIT):
        result = session.execute(
            update(OutboxChat)
            .where(
                col(OutboxChat.owner) == owner,
                col(OutboxChat.chat_id).in_(list(chat_ids[start : start + CLAIM_LIMIT])),
            )
            .values(lease_until=until)
        )
        kept += int(result.rowcount)  # type: ignore[attr-defined]
    return kept


def take_orphans(session: Session, *, owner: str = OWNER, limit: int = CLAIM_LIMIT) -> list[int]:
    """Take the chats with unsent rows that no living process holds (never taken, let go at a
    stop, or their holder's lease ran out); commits; the chats taken, lowest id first (two
    processes taking chats at once lock them in the same order)."""
    now = utcnow()
    chats = session.scalars(
        select(col(OutboxSend.chat_id))
        .outerjoin(OutboxChat, col(OutboxChat.chat_id) == col(OutboxSend.chat_id))
        .where(
            col(OutboxSend.sent_at).is_(None),
            or_(col(OutboxChat.chat_id).is_(None), col(OutboxChat.lease_until) < now),
        )
        .group_by(col(OutboxSend.chat_id))
        .order_by(col(OutboxSend.chat_id))
        .limit(limit)
    ).all()
    taken = [chat for chat in chats if take_chat(session, chat_id=chat, owner=owner)]
    session.commit()
    return taken


def release_chats(session: Session, *, owner: str = OWNER) -> int:
    """At a stop: the owner's chats are free to take (their unsent rows go out from another
    process's heartbeat or the next start)."""
    result = session.execute(delete(OutboxChat).where(col(OutboxChat.owner) == owner))
    return int(result.rowcount)  # type: ignore[attr-defined]
