"""The unit of work: one session, one transaction, and what waits for its commit.

As in cosmicpython's service layer: entering opens a session, leaving without `commit()` rolls
back, and `commit()` is explicit. What the work decided to send is written in the same
transaction (`Stored.persist`: the outbox's rows, SPEC §12), and what must wait until the
commit holds (`after_commit`) runs once it did.

For an update (the update path makes it the one being handled, bot/store/inbox.py) `claim()`
claims it in the same transaction as its effects, so a redelivered update finds it claimed and
changes nothing; `refuse()` rolls the effects back and claims it again, so a refused update is
still done once.

`run_unit` runs a unit in its chat's database lane (bot/store/lanes.py): in order with the
chat's other work, in a worker thread for PostgreSQL, and never as a blocking call on the event
loop's own account (SQLite's one lane runs on the loop in short slices, by design). Work of no
chat (a sweep's read across chats, the outbox's heartbeat) passes the key None.

Every handler, sweep, outbox step and the Mini App's API reach the database this way only
(tests/unit/test_database_off_the_loop.py). Three places below them do not, on purpose: the
update path's own storage (bot/updates/pipeline.py stores, claims and settles the inbox's rows
in the lanes, before and after any unit), the cross-process chat locks (bot/updates/locks.py
hold one connection for an advisory lock) and the readiness probe (bot/health.py).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.store import inbox
from bot.store.lanes import DatabaseLanes

T = TypeVar("T")


class Stored(Protocol):
    """What a unit of work writes in its own transaction just before it commits (the outbox)."""

    def persist(self, session: Session) -> None: ...


class UnitOfWork:
    """One transaction; `with UnitOfWork(engine) as unit: …; unit.commit()`."""

    def __init__(self, engine: Engine, *, stored: Stored | None = None) -> None:
        self._engine = engine
        self._stored: list[Stored] = [] if stored is None else [stored]
        self._after: list[Callable[[], None]] = []
        self._committed = False
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self._engine, expire_on_commit=False)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # closing ends the transaction: what was not committed is rolled back in the database;
        # objects read stay readable (detached, not expired), so a read may return them
        try:
            if error is not None and not self._committed:
                self.session.rollback()
        finally:
            self.session.close()

    def claim(self) -> bool:
        """Claim the update being handled, with this transaction's effects. False: it was
        claimed or finished already (a redelivery, or another process was first) — then roll
        back and post nothing. True when no update is being handled (a sweep, the Mini App)."""
        handled = inbox.handled_now()
        if handled is None:
            return True
        claimed = inbox.claim_update(self.session, update_id=handled.update_id)
        handled.claimed = handled.claimed or claimed
        return claimed

    @property
    def resumed(self) -> bool:
        """Whether the update being handled had its effects committed by a process that died
        before sending its answers: repeat only what is safe to repeat (a reaction)."""
        handled = inbox.handled_now()
        return handled is not None and handled.resumed

    def refuse(self) -> None:
        """Roll back everything this unit wrote and claim the update again: a refusal is
        answered, and the update is still done once."""
        self.session.rollback()
        self.claim()

    def store(self, stored: Stored) -> None:
        """Write `stored` (what was decided to send) in this transaction when it commits."""
        self._stored.append(stored)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the commit held (e.g. note in memory what is now stored)."""
        self._after.append(callback)

    def commit(self) -> None:
        """Write what was decided to send, commit, then run what waited for the commit."""
        for stored in self._stored:
            stored.persist(self.session)
        self.session.commit()
        self._committed = True
        after, self._after = self._after, []
        for callback in after:
            callback()


async def run_unit(
    lanes: DatabaseLanes,
    engine: Engine,
    key: int | None,
    work: Callable[[UnitOfWork], T],
    *,
    stored: Stored | None = None,
) -> T:
    """Run `work` in one unit of work, in the database lane of `key` (a chat id; None: work of
    no chat). `work` commits what it wants kept; anything else is rolled back."""

    def run() -> T:
        with UnitOfWork(engine, stored=stored) as unit:
            return work(unit)

    return await lanes.run(key, run)
