"""The update being processed: its id, whether a handler claimed it, whether a handler failed.

The pipeline (bot/updates/pipeline.py) opens a unit of work around `Application.process_update`.
A handler that writes calls `mark_current_processed(session)` inside its own session, before its
commit: the claim then commits together with the update's effects, so a redelivered update finds
it claimed and changes nothing. The application's error handler calls `note_failure(error)`, so
the pipeline knows that the update did not go through (PTB catches handler errors itself).

An update whose effects were committed but whose process died before its answers were sent
comes round once more after the restart: `mark_current_processed` says False as for any claimed
update, and `current_update_resumed()` says True, so a handler may repeat what is safe to
repeat (a reaction on the person's message) and nothing else (never a second post).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlmodel import Session

from bot.store import inbox as inbox_store
from bot.updates.senders import ChatSenders


@dataclass
class UnitOfWork:
    """One update on its way through the handlers."""

    update_id: int
    failure: BaseException | None = None
    claimed: bool = False  # a handler's session claimed it (committed or not)
    resumed: bool = False  # claimed before, by a process that died before finishing it
    # sends that need not hold up the chat's next update (reactions), handed to the pipeline
    # to run before the update is finished; None: send everything in line
    deferred: list[Callable[[], Awaitable[None]]] | None = None
    # whether a failure is to be told to the person: once per update, on its first failure
    tell_failure: bool = True
    # where stored posts may go to be sent in the background, in order per chat; None: in line
    senders: ChatSenders | None = None


_current: ContextVar[UnitOfWork | None] = ContextVar("update_unit_of_work", default=None)


@contextmanager
def unit_of_work(
    update_id: int,
    *,
    resumed: bool = False,
    defer_reactions: bool = False,
    tell_failure: bool = True,
    senders: ChatSenders | None = None,
) -> Iterator[UnitOfWork]:
    """Make `update_id` the update being processed in this task (and tasks it starts).

    `defer_reactions`: reactions are collected in `deferred` instead of sent in line.
    `tell_failure`: False when the person was told already that this update failed.
    """
    unit = UnitOfWork(
        update_id,
        resumed=resumed,
        deferred=[] if defer_reactions else None,
        tell_failure=tell_failure,
        senders=senders,
    )
    token = _current.set(unit)
    try:
        with inbox_store.handling(update_id):
            yield unit
    finally:
        _current.reset(token)


def current_update_id() -> int | None:
    """The id of the update being processed here, if any (for log lines)."""
    unit = _current.get()
    return None if unit is None else unit.update_id


def mark_current_processed(session: Session) -> bool:
    """Claim the update being processed, in the handler's own session (commit it with the effects).

    False: the update was processed already (a redelivery, or another process got it first) —
    the handler then rolls back and posts nothing (see `current_update_resumed`). True outside
    the pipeline (nothing to claim), e.g. when a test feeds updates to the application directly.
    """
    unit = _current.get()
    if unit is None:
        return True
    claimed = inbox_store.claim_update(session, update_id=unit.update_id)
    unit.claimed = unit.claimed or claimed
    return claimed


def current_update_resumed() -> bool:
    """Whether the update being processed had its effects committed by a process that died
    before sending its answers: repeat only what is safe to repeat (a reaction)."""
    unit = _current.get()
    return unit is not None and unit.resumed


def defer_send(send: Callable[[], Awaitable[None]]) -> bool:
    """Hand a send that may come after the chat's next update (a reaction) to the pipeline;
    False when it is to be sent in line (no pipeline, or one that keeps every send in line)."""
    unit = _current.get()
    if unit is None or unit.deferred is None:
        return False
    unit.deferred.append(send)
    return True


def send_later(
    chat_id: int | None,
    run: Callable[[], Awaitable[None]],
    *,
    key: Hashable | None = None,
    drop: Callable[[], None] | None = None,
    stored: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Hand sends whose rows are in the outbox to the chat's background sender (in order per
    chat), so the chat's next update need not wait for them; False: send in line (no pipeline,
    or one that keeps every send in line). `stored`: the same sends read back from the outbox
    (bot/updates/senders.py)."""
    unit = _current.get()
    if unit is None or unit.senders is None:
        return False
    return unit.senders.put(chat_id, run, key=key, drop=drop, stored=stored)


def sending_later(chat_id: int | None) -> bool:
    """Whether the chat's background sender still has sends to make (then any send of the
    chat queues behind them, to keep the chat's order)."""
    unit = _current.get()
    return unit is not None and unit.senders is not None and unit.senders.busy(chat_id)


def note_failure(error: object) -> None:
    """Record that a handler of the current update failed (the error handler calls this)."""
    unit = _current.get()
    if unit is None:
        return
    if unit.failure is None:
        unit.failure = error if isinstance(error, BaseException) else RuntimeError(str(error))


def take_failure_notice() -> bool:
    """Whether the person is to be told that the current update failed: True once per update
    (its first failed attempt; the tries after it say nothing), True outside the pipeline."""
    unit = _current.get()
    if unit is None:
        return True
    tell, unit.tell_failure = unit.tell_failure, False
    return tell
