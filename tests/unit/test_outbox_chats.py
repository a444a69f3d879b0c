"""The outbox's chat claims (SPEC §12, issue 19) on PostgreSQL: one process sends a chat's rows,
all of them, in row-id order; a row committed while the holder lets the chat go is not left
behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.store import outbox as rows
from bot.store import outbox_chats as chats
from bot.store.db import make_engine, normalise_url, upgrade_schema
from bot.store.tables import OutboxChat, OutboxSend, utcnow

pytestmark = pytest.mark.postgres

CHAT = -1001234567890


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(normalise_url(postgres_url))
    upgrade_schema(made)
    yield made
    made.dispose()


def _store(engine: Engine, owner: str, count: int, chat_id: int = CHAT) -> tuple[bool, list[int]]:
    """A unit of work of `owner` storing `count` rows: whether it took the chat, the rows."""
    with Session(engine) as session:
        took = chats.take_chat(session, chat_id=chat_id, owner=owner)
        ids = _add(session, owner, count, chat_id)
        session.commit()
    return took, ids


def _add(session: Session, owner: str, count: int, chat_id: int = CHAT) -> list[int]:
    ids = rows.add_sends(session, sends=[(chat_id, "message", "{}")] * count, update_id=None)
    session.execute(update(OutboxSend).where(col(OutboxSend.id).in_(ids)).values(claimed_by=owner))
    return ids


def _holder(engine: Engine, chat_id: int = CHAT) -> str | None:
    with Session(engine) as session:
        claim = session.get(OutboxChat, chat_id)
        return None if claim is None else claim.owner


def test_the_holder_sends_every_row_of_the_chat_in_order_then_lets_it_go(pg: Engine) -> None:
    took, first = _store(pg, "a", 2)
    assert took
    took, second = _store(pg, "b", 2)  # a holds the chat: b leaves its rows to a
    assert not took
    with Session(pg) as session:
        assert chats.others_waiting(session, chat_id=CHAT, owner="a")
        assert chats.others_waiting(session, chat_id=CHAT, owner="b")
        assert chats.next_rows(session, chat_id=CHAT, owner="b") is None  # not b's
        taken = chats.next_rows(session, chat_id=CHAT, owner="a")
        assert taken is not None
        assert [r.id for r in taken] == first + second
        assert {r.claimed_by for r in taken} == {"a"}  # taken over from b
        for row in taken:
            assert row.id is not None
            rows.settle_send(session, send_id=row.id, outcome=rows.SENT)
        session.commit()
        assert chats.next_rows(session, chat_id=CHAT, owner="a") == []  # none left: let go
    assert _holder(pg) is None
    took, _ = _store(pg, "b", 1)
    assert took


def test_a_row_committed_while_the_holder_lets_go_keeps_the_chat(pg: Engine) -> None:
    """b's unit of work finds the chat held by a (and leaves its row); a's last read, which
    would let the chat go, waits for b's commit, then reads b's row and keeps the chat."""
    assert _store(pg, "a", 0)[0]
    result: list[list[OutboxSend] | None] = []
    with Session(pg) as b:
        assert not chats.take_chat(b, chat_id=CHAT, owner="b")
        (row_id,) = _add(b, "b", 1)
        reader = threading.Thread(target=lambda: result.append(_last_read(pg, "a")), daemon=True)
        reader.start()
        reader.join(0.5)
        assert reader.is_alive(), "the holder let the chat go past an uncommitted row"
        b.commit()
    reader.join(10)
    assert [[r.id for r in found] for found in result if found is not None] == [[row_id]]
    assert _holder(pg) == "a"


def _last_read(engine: Engine, owner: str) -> list[OutboxSend] | None:
    with Session(engine) as session:
        return chats.next_rows(session, chat_id=CHAT, owner=owner)


def test_a_dead_holder_s_chat_is_taken_after_its_lease_and_only_once(pg: Engine) -> None:
    _store(pg, "dead", 2)
    _store(pg, "dead", 1, chat_id=CHAT - 1)
    with Session(pg) as session:
        session.execute(
            update(OutboxChat)
            .where(col(OutboxChat.chat_id) == CHAT - 1)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
        session.commit()
        assert chats.take_orphans(session, owner="b") == [CHAT - 1]  # CHAT's lease still runs
        assert chats.take_orphans(session, owner="c") == []
        assert chats.keep_chats(session, chat_ids=[CHAT - 1], owner="b") == 1
        assert chats.release_chats(session, owner="dead") == 1  # (as at a stop)
        session.commit()
        assert chats.take_orphans(session, owner="c") == [CHAT]
        taken = chats.next_rows(session, chat_id=CHAT, owner="c")
        assert taken is not None
        assert len(taken) == 2
        left = session.exec(select(OutboxSend).where(col(OutboxSend.sent_at).is_(None))).all()
        assert len(left) == 3
