"""The outbox's claims (SPEC §12): several processes deliver from one database, and no row is
sent by two of them; a claim whose process died is taken over after its lease."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.store import outbox as rows
from bot.store.tables import OutboxSend, utcnow


def _unclaimed(engine: Engine, count: int, chats: int = 10) -> list[int]:
    """Rows left unsent and unclaimed (as after a stop that released its claims)."""
    with Session(engine) as session:
        ids = rows.add_sends(
            session,
            sends=[(1000 + n % chats, "message", f'{{"text": "{n}"}}') for n in range(count)],
            update_id=None,
        )
        for row in session.exec(select(OutboxSend)).all():
            row.claimed_by, row.claimed_until = None, None
            session.add(row)
        session.commit()
    return ids


def test_two_delivering_workers_never_claim_the_same_row(engine: Engine) -> None:
    """Two workers (each its own connection, as two processes) claim and send in rounds of 7
    until nothing is left: every row is sent exactly once, by one of them."""
    ids = _unclaimed(engine, 300)
    sent: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def worker(owner: str) -> None:
        try:
            start.wait()
            while True:
                with Session(engine) as session:
                    claimed = rows.claim_unsent(session, owner=owner, limit=7)
                    if not claimed:
                        return
                    for row in claimed:
                        assert row.id is not None
                        sent[owner].append(row.id)
                        rows.settle_send(session, send_id=row.id, outcome=rows.SENT)
                    session.commit()
                time.sleep(0.001)  # the other worker's turn
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(owner,)) for owner in sent]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert not set(sent["a"]) & set(sent["b"])
    assert sorted(sent["a"] + sent["b"]) == sorted(ids)
    if engine.dialect.name == "postgresql":  # (SQLite's one writer may serve one of them)
        assert sent["a"]
        assert sent["b"]  # both took part
    with Session(engine) as session:
        assert session.exec(select(OutboxSend).where(col(OutboxSend.sent_at).is_(None))).all() == []


def test_a_claim_is_taken_over_only_after_its_lease(engine: Engine) -> None:
    ids = _unclaimed(engine, 4, chats=1)
    with Session(engine) as session:
        mine = rows.claim_unsent(session, owner="alive")
    assert [row.id for row in mine] == ids
    with Session(engine) as session:  # another process finds nothing while the lease holds
        assert rows.claim_unsent(session, owner="other") == []
        assert rows.keep_claims(session, owner="alive") == 4  # the heartbeat
        session.commit()
        assert rows.claim_unsent(session, owner="other") == []
    with Session(engine) as session:  # the owner died: its lease runs out
        for row in session.exec(select(OutboxSend)).all():
            row.claimed_until = utcnow() - timedelta(seconds=1)
            session.add(row)
        session.commit()
        taken = rows.claim_unsent(session, owner="other")
    assert [row.id for row in taken] == ids  # oldest first: the chat's order holds
    with Session(engine) as session:  # the dead owner, were it alive, may no longer send them
        assert rows.renew_claim(session, send_id=ids[0], owner="alive") is None
        assert rows.renew_claim(session, send_id=ids[0], owner="other") is not None
        session.commit()


def test_a_stop_releases_its_claims_for_the_next_start(engine: Engine) -> None:
    ids = _unclaimed(engine, 3, chats=1)
    with Session(engine) as session:
        assert [r.id for r in rows.claim_unsent(session, owner="stopping")] == ids
        assert rows.claim_unsent(session, owner="next") == []
        assert rows.release_claims(session, owner="stopping") == 3
        session.commit()
        assert [r.id for r in rows.claim_unsent(session, owner="next")] == ids
