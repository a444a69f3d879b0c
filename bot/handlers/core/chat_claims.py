"""Which process sends a chat's outbox rows, as the outbox sees it (SPEC §12, issue 19).

On PostgreSQL several processes (webhook or polling replicas) handle one chat's updates, so a
chat's rows are sent by one process only, its holder (bot/store/outbox_chats.py), all of them
and in row-id order. A unit of work storing rows for a chat tries to take the chat first
(`take`, in its transaction):

- MINE: this process holds the chat and no row of another process waits: the rows go out as
  on a single process (in line, or from the chat's sender);
- BEHIND: this process holds the chat, but rows of another process wait (a dead holder's, or
  rows left to this one): the new rows are read back from the outbox behind them;
- THEIRS: another living process holds the chat: the rows are left to it.

When a chat's sends here are through, the chat's sender reads its unsent rows once more (those
others left meanwhile) and lets the chat go when none is left (bot/handlers/core/unsent.py).

SQLite is one process by design: nothing is registered for it, `take` says None at once, and
the outbox works as it always did.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.store import outbox_chats
from bot.updates.senders import ChatSenders

MINE = "mine"
BEHIND = "behind"
THEIRS = "theirs"
REMEMBERED = 10_000  # row ids kept per set below (the oldest forgotten first)


@dataclass(eq=False)
class ChatDelivery:
    """This process's part: the chats' senders, and rows it read back and sent (or that failed
    here) so a send decided here in the meantime is not made twice."""

    senders: ChatSenders
    _drained: dict[int, None] = field(default_factory=dict)
    _failed: dict[int, int] = field(default_factory=dict)  # row id: chat id

    def note_drained(self, row_id: int) -> None:
        _remember(self._drained, row_id, None)

    def drained(self, row_id: int) -> bool:
        """Whether the row went out read back from the outbox (so not from memory again)."""
        if row_id not in self._drained:
            return False
        del self._drained[row_id]
        return True

    def note_failed(self, row_id: int, chat_id: int) -> None:
        """A row that failed here stays unsent; it is not read again by this process (another
        process's heartbeat, or the next start, tries it again)."""
        _remember(self._failed, row_id, chat_id)

    def failed(self, chat_id: int) -> list[int]:
        return [row for row, chat in self._failed.items() if chat == chat_id]

    def wake(self, chat_id: int) -> None:
        self.senders.wake(chat_id)


def _remember(ids: dict[int, Any], row_id: int, value: Any) -> None:
    ids[row_id] = value
    while len(ids) > REMEMBERED:
        del ids[next(iter(ids))]


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, ChatDelivery] = weakref.WeakKeyDictionary()


def start(engine: Engine, senders: ChatSenders) -> ChatDelivery | None:
    """Send chats' rows by their claims from now on (several processes can share a PostgreSQL
    database); None on SQLite."""
    if engine.dialect.name == "sqlite":
        return None
    delivery = _BY_ENGINE[engine] = ChatDelivery(senders)
    return delivery


def stop(engine: Engine) -> None:
    _BY_ENGINE.pop(engine, None)


def of_engine(engine: Engine) -> ChatDelivery | None:
    return _BY_ENGINE.get(engine)


def take(session: Session, chat_id: int) -> str | None:
    """In a unit of work storing rows for the chat, before they are added: MINE, BEHIND or
    THEIRS (see above); None when chats are not claimed (SQLite, or no delivery running)."""
    if not _BY_ENGINE:
        return None
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine not in _BY_ENGINE:
        return None
    if not outbox_chats.take_chat(session, chat_id=chat_id):
        return THEIRS
    return BEHIND if outbox_chats.others_waiting(session, chat_id=chat_id) else MINE
