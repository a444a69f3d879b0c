"""The update being handled: its id, whether it failed, where its sends may go.

The pipeline (bot/updates/pipeline.py) wraps `Application.process_update` in `handling_update`.
A handler that writes does so in one unit of work (bot/store/unit.py) whose `claim()` claims
the update in the same transaction as its effects, so a redelivered update finds it claimed and
changes nothing. The application's error handler calls `note_failure(error)`, so the pipeline
knows that the update did not go through (PTB catches handler errors itself).

An update whose effects were committed but whose process died before its answers were sent
comes round once more after the restart: `claim()` says False as for any claimed update, and
the unit's `resumed` says True, so a handler may repeat what is safe to repeat (a reaction on
the person's message) and nothing else (never a second post).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bot.store import inbox as inbox_store
from bot.store.inbox import Handling
from bot.updates.senders import ChatSenders


@dataclass
class HandledUpdate:
    """One update on its way through the handlers."""

    handling: Handling  # its id, whether a unit of work claimed it, whether it was resumed
    failure: BaseException | None = None
    # sends that need not hold up the chat's next update (reactions), handed to the pipeline
    # to run before the update is finished; None: send everything in line
    deferred: list[Callable[[], Awaitable[None]]] | None = None
    # whether a failure is to be told to the person: once per update, on its first failure
    tell_failure: bool = True
    # where stored posts may go to be sent in the background, in order per chat; None: in line
    senders: ChatSenders | None = None

    @property
    def update_id(self) -> int:
        return self.handling.update_id

    @property
    def claimed(self) -> bool:
        return self.handling.claimed


_current: ContextVar[HandledUpdate | None] = ContextVar("handled_update", default=None)


@contextmanager
def handling_update(
    update_id: int,
    *,
    resumed: bool = False,
    defer_reactions: bool = False,
    tell_failure: bool = True,
    senders: ChatSenders | None = None,
) -> Iterator[HandledUpdate]:
    """Make `update_id` the update being handled in this task (and tasks it starts).

    `defer_reactions`: reactions are collected in `deferred` instead of sent in line.
    `tell_failure`: False when the person was told already that this update failed.
    """
    with inbox_store.handling(update_id, resumed=resumed) as handling:
        handled = HandledUpdate(
            handling,
            deferred=[] if defer_reactions else None,
            tell_failure=tell_failure,
            senders=senders,
        )
        token = _current.set(handled)
        try:
            yield handled
        finally:
            _current.reset(token)


def current_update_id() -> int | None:
    """The id of the update being processed here, if any (for log lines)."""
    unit = _current.get()
    return None if unit is None else unit.update_id


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
