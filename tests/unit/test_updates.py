"""The update pipeline in-process: inbox, exactly once, retries, per-chat queues, the webhook."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine, text
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.model import TOKEN
from bot.store import deadletters
from bot.store import inbox as inbox_store
from bot.store.db import make_engine, normalise_url, session_scope, upgrade_schema
from bot.store.unit import UnitOfWork
from bot.updates import pipeline as pipeline_module
from bot.updates.handling import defer_send, note_failure
from bot.updates.pipeline import Outcome, Pipeline, Poison, Received
from bot.updates.polling import Fetched, Poller
from bot.updates.queues import ChatQueues
from bot.updates.webhook import MAX_BODY_BYTES, SECRET_HEADER, webhook_app

SECRET = "geheim-123"
AnyApp = Application[Any, Any, Any, Any, Any, Any]
Handler = Callable[[Update, CallbackContext[Any, Any, Any, Any]], Any]


def _update(update_id: int, chat_id: int, text: str = "hallo") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "supergroup", "title": "Team"},
            "from": {"id": 7, "is_bot": False, "first_name": "Anna"},
            "text": text,
        },
    }


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(normalise_url(f"sqlite:///{tmp_path / 'inbox.sqlite3'}"))
    upgrade_schema(engine)
    return engine


class Recorder:
    """A handler that writes like the bot's handlers do: claim, write, commit — or fail."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[int] = []
        self.written: list[int] = []
        self.resumed: list[int] = []
        self.failures_left: dict[int, int] = {}

    async def handle(self, update: Update, _context: CallbackContext[Any, Any, Any, Any]) -> None:
        self.seen.append(update.update_id)
        if self.failures_left.get(update.update_id, 0) > 0:
            self.failures_left[update.update_id] -= 1
            raise RuntimeError("handler failed")
        with UnitOfWork(self.engine) as unit:
            if not unit.claim():
                if unit.resumed:
                    self.resumed.append(update.update_id)  # e.g. the reaction once more
                return
            unit.session.execute(text("SELECT 1"))
            unit.commit()
        self.written.append(update.update_id)


@pytest.fixture
async def app(emulator: BotApiEmulator) -> AsyncIterator[AnyApp]:
    application: AnyApp = (
        ApplicationBuilder().token(TOKEN).base_url(f"{emulator.base_url}/bot").updater(None).build()
    )

    async def on_error(_update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        note_failure(context.error)

    application.add_error_handler(on_error)
    await application.initialize()
    yield application
    await application.shutdown()


def _wire(app: AnyApp, engine: Engine, **kwargs: Any) -> tuple[Pipeline, Recorder]:
    recorder = Recorder(engine)
    app.add_handler(MessageHandler(filters.ALL, recorder.handle))
    return Pipeline(app, engine, **kwargs), recorder


def _inbox(engine: Engine) -> dict[int, tuple[str, int, bool]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT update_id, outcome, attempts, processed_at FROM inbox_update")
        ).all()
    return {r[0]: (r[1], r[2], r[3] is not None) for r in rows}


async def test_each_update_is_stored_once_and_processed_once(
    app: AnyApp, sqlite_engine: Engine
) -> None:
    pipeline, recorder = _wire(app, sqlite_engine)
    first = Update.de_json(_update(1, -100), app.bot)
    [received] = await pipeline.receive([first])
    assert await pipeline.receive([first]) == []  # delivered again: not stored twice
    assert await pipeline.process(received) is Outcome.DONE
    # processed again anyway (a redelivery racing the first): the handler's claim says no
    assert await pipeline.process(received) is Outcome.DONE
    assert recorder.seen == [1, 1]
    assert recorder.written == [1]
    assert _inbox(sqlite_engine) == {1: ("handled", 0, True)}


async def test_an_update_no_handler_writes_for_is_marked_done(
    app: AnyApp, sqlite_engine: Engine
) -> None:
    pipeline = Pipeline(app, sqlite_engine)  # no handlers at all
    [received] = await pipeline.receive([Update.de_json(_update(5, -100), app.bot)])
    assert await pipeline.process(received) is Outcome.DONE
    assert _inbox(sqlite_engine) == {5: ("done", 0, True)}
    assert await pipeline.unprocessed(all_chats=True) == []


async def test_a_failing_update_is_retried_then_given_up(
    app: AnyApp, sqlite_engine: Engine
) -> None:
    pipeline, recorder = _wire(app, sqlite_engine, max_attempts=3)
    recorder.failures_left = {1: 1, 2: 10}
    received = await pipeline.receive([Update.de_json(_update(i, -100), app.bot) for i in (1, 2)])
    assert await pipeline.process(received[0]) is Outcome.RETRY
    assert await pipeline.process(received[0]) is Outcome.DONE  # second try goes through
    outcomes = [await pipeline.process(received[1]) for _ in range(3)]
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.GAVE_UP]
    assert _inbox(sqlite_engine) == {1: ("handled", 1, True), 2: ("dead", 3, True)}
    with session_scope(sqlite_engine) as session:  # set aside with its error's class
        [dead] = deadletters.dead_letters(session)
    assert (dead.update_id, dead.chat_id, dead.error) == (2, -100, "RuntimeError")
    assert await pipeline.unprocessed(all_chats=True) == []  # nothing comes back


async def test_unprocessed_updates_come_back_in_order(app: AnyApp, sqlite_engine: Engine) -> None:
    pipeline, _ = _wire(app, sqlite_engine)
    updates = [Update.de_json(_update(i, -100 - i % 2), app.bot) for i in (3, 1, 2, 4)]
    await pipeline.receive(updates)
    assert [r.update_id for r in await pipeline.unprocessed(all_chats=True)] == [1, 2, 3, 4]
    assert [r.update_id for r in await pipeline.unprocessed(chat_id=-101)] == [1, 3]
    assert await pipeline.settle_chat(-101, 1)
    assert [r.update_id for r in await pipeline.unprocessed(chat_id=-101)] == [3]
    assert await pipeline.replay_all() == 3
    assert await pipeline.unprocessed(all_chats=True) == []


async def test_an_update_claimed_by_a_process_that_died_is_resumed_once(
    app: AnyApp, sqlite_engine: Engine
) -> None:
    pipeline, recorder = _wire(app, sqlite_engine)
    await pipeline.receive([Update.de_json(_update(i, -100), app.bot) for i in (1, 2)])
    with session_scope(sqlite_engine) as session:  # the handler committed, then kill -9
        assert inbox_store.claim_update(session, update_id=1)
        session.commit()
    pending = await pipeline.unprocessed(chat_id=-100)
    assert [(r.update_id, r.resumed) for r in pending] == [(1, True), (2, False)]
    assert await pipeline.settle_chat(-100, 2)
    assert recorder.resumed == [1]
    assert recorder.written == [2]
    assert _inbox(sqlite_engine) == {1: ("handled", 0, True), 2: ("handled", 0, True)}
    assert await pipeline.unprocessed(all_chats=True) == []


async def test_purge_forgets_old_processed_updates_only(sqlite_engine: Engine) -> None:
    from datetime import timedelta

    from bot.store.tables import utcnow

    with session_scope(sqlite_engine) as session:
        for update_id in (1, 2, 3):
            inbox_store.receive_updates(session, updates=[(update_id, -1, "{}")])
        inbox_store.finish_update(session, update_id=1, outcome="done")
        inbox_store.finish_update(session, update_id=2, outcome="done")
        session.commit()
    with session_scope(sqlite_engine) as session:
        assert (
            inbox_store.purge_processed_updates(session, before=utcnow() - timedelta(days=1)) == 0
        )
        assert (
            inbox_store.purge_processed_updates(session, before=utcnow() + timedelta(days=1)) == 2
        )
        session.commit()
    assert list(_inbox(sqlite_engine)) == [3]


class Reacting(Recorder):
    """Writes like Recorder, then hands a reaction to the pipeline (or sends it in line) that
    Telegram answers only once `answer` is set (only in the chats `held`, if given)."""

    def __init__(self, engine: Engine, held: set[int] | None = None) -> None:
        super().__init__(engine)
        self.answer = asyncio.Event()
        self.held = held
        self.reacted: list[int] = []

    async def handle(self, update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await super().handle(update, context)
        update_id = update.update_id
        chat = update.effective_chat
        held = self.held is None or (chat is not None and chat.id in self.held)

        async def react() -> None:
            if held:
                await self.answer.wait()
            self.reacted.append(update_id)

        if not defer_send(react):
            await react()


def _wire_reacting(
    app: AnyApp, engine: Engine, held: set[int] | None = None
) -> tuple[Pipeline, Reacting]:
    recorder = Reacting(engine, held)
    app.add_handler(MessageHandler(filters.ALL, recorder.handle))
    return Pipeline(app, engine), recorder


async def test_a_deferred_reaction_lets_the_chat_go_on_and_finishes_the_update_after_it(
    app: AnyApp, sqlite_engine: Engine
) -> None:
    pipeline, recorder = _wire_reacting(app, sqlite_engine)
    first, second = await pipeline.receive(
        [Update.de_json(_update(n, -5), app.bot) for n in (1, 2)]
    )
    # Telegram has not answered the first reaction, yet the chat's next update is worked on
    assert await pipeline.process(first, defer_reactions=True) is Outcome.DONE
    assert await pipeline.process(second, defer_reactions=True) is Outcome.DONE
    assert recorder.written == [1, 2]
    assert recorder.reacted == []
    # claimed with their effects, but not finished before their reactions went out
    assert _inbox(sqlite_engine) == {1: ("handled", 0, False), 2: ("handled", 0, False)}
    recorder.answer.set()
    await pipeline.settle_deferred(grace=2)
    assert recorder.reacted == [1, 2]
    assert _inbox(sqlite_engine) == {1: ("handled", 0, True), 2: ("handled", 0, True)}


async def test_without_deferring_the_reaction_is_part_of_the_update(
    app: AnyApp, sqlite_engine: Engine
) -> None:
    pipeline, recorder = _wire_reacting(app, sqlite_engine)
    [received] = await pipeline.receive([Update.de_json(_update(1, -5), app.bot)])
    work = asyncio.create_task(pipeline.process(received))  # as the webhook processes
    await asyncio.sleep(0.05)
    assert not work.done()  # waits for Telegram's answer to the reaction
    recorder.answer.set()
    assert await asyncio.wait_for(work, 2) is Outcome.DONE
    assert recorder.reacted == [1]
    assert _inbox(sqlite_engine) == {1: ("handled", 0, True)}


async def test_a_reaction_cut_off_by_a_stop_leaves_its_update_to_be_resumed(
    app: AnyApp, sqlite_engine: Engine
) -> None:
    pipeline, recorder = _wire_reacting(app, sqlite_engine)
    [received] = await pipeline.receive([Update.de_json(_update(1, -5), app.bot)])
    assert await pipeline.process(received, defer_reactions=True) is Outcome.DONE
    await pipeline.settle_deferred(grace=0.05)  # Telegram never answered: cut off
    assert recorder.reacted == []
    [again] = await pipeline.unprocessed(all_chats=True)
    assert again.update_id == 1
    assert again.resumed  # after a restart: only the reaction again
    recorder.answer.set()
    assert await pipeline.process(again) is Outcome.DONE
    assert recorder.written == [1]
    assert recorder.resumed == [1]
    assert _inbox(sqlite_engine) == {1: ("handled", 0, True)}


async def test_a_chat_whose_reactions_hang_waits_for_its_own_and_takes_no_others_room(
    app: AnyApp, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram holds back one chat's reactions (a 429, timeouts): past its own bound that chat
    sends in line and waits; past the bound for all, others send in line — nobody waits for
    another chat's reactions."""
    monkeypatch.setattr(pipeline_module, "DEFERRED_PER_CHAT", 2)
    monkeypatch.setattr(pipeline_module, "DEFERRED_AT_ONCE", 3)
    pipeline, recorder = _wire_reacting(app, sqlite_engine, held={-1})
    slow = await pipeline.receive([Update.de_json(_update(n, -1), app.bot) for n in (1, 2, 3)])
    others = await pipeline.receive([Update.de_json(_update(n, -2), app.bot) for n in (4, 5)])
    for received in slow[:2]:  # deferred: the chat goes on
        assert await pipeline.process(received, defer_reactions=True) is Outcome.DONE
    third = asyncio.create_task(pipeline.process(slow[2], defer_reactions=True))
    await asyncio.sleep(0.05)
    assert not third.done()  # over its own bound: waits for its own reaction
    # another chat: one deferred (three under way in all), the next in line — and through
    for received in others:
        assert await asyncio.wait_for(pipeline.process(received, defer_reactions=True), 2) is (
            Outcome.DONE
        )
    assert recorder.reacted == [4, 5]
    recorder.answer.set()
    assert await asyncio.wait_for(third, 2) is Outcome.DONE
    await pipeline.settle_deferred(grace=2)
    assert sorted(recorder.reacted) == [1, 2, 3, 4, 5]
    assert all(done for _, _, done in _inbox(sqlite_engine).values())


class _PollingData(dict[Any, Any]):
    updates_request = None  # no request keeps getUpdates' JSON: the poller encodes it again


@pytest.fixture
async def polling_app(emulator: BotApiEmulator) -> AsyncIterator[AnyApp]:
    """An application as the poller needs it (its bot_data may keep getUpdates' JSON)."""
    application: AnyApp = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{emulator.base_url}/bot")
        .updater(None)
        .context_types(ContextTypes(bot_data=_PollingData))
        .build()
    )
    await application.initialize()
    yield application
    await application.shutdown()


async def test_a_long_backlog_is_worked_off_in_parts_each_update_once(
    polling_app: AnyApp, sqlite_engine: Engine
) -> None:
    """Unfinished updates from before a stop, more than one replay reads: each part is worked
    off, its reactions included, before the next part is read from the inbox."""
    pipeline, recorder = _wire_reacting(polling_app, sqlite_engine)
    await pipeline.receive(
        [Update.de_json(_update(n, -(1 + n % 3)), polling_app.bot) for n in range(1, 13)]
    )
    poller = Poller(pipeline, allowed_updates=["message"], poll_timeout=1, replay_at_once=5)

    async def answer_later() -> None:  # Telegram answers the reactions after a while
        await asyncio.sleep(0.2)
        recorder.answer.set()

    answering = asyncio.create_task(answer_later())
    stop = asyncio.Event()
    polling = asyncio.create_task(poller.run(stop))
    for _ in range(200):
        if all(done for _, _, done in _inbox(sqlite_engine).values()):
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(polling, 5)
    await answering
    assert sorted(recorder.written) == list(range(1, 13))
    assert sorted(recorder.reacted) == list(range(1, 13))  # each reacted to once
    assert recorder.resumed == []  # none read again while its reaction was under way


async def test_polling_asks_for_the_next_batch_before_working_on_this_one(
    polling_app: AnyApp,
    sqlite_engine: Engine,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telegram's round trip for the next batch overlaps with this batch's work: in a burst
    the chats had waited for the fetching (benchmarks/burst.py)."""
    app = polling_app
    anna = world.person(41, "Anna")
    team = world.group("Team", owner=anna, supergroup=True)
    for n in range(5):
        world.send(team, anna, f"/zeile{n}")
    events: list[str] = []
    fetch = Poller._fetch

    async def counted_fetch(self: Poller) -> Fetched:
        events.append("fetch")
        return await fetch(self)

    all_worked = asyncio.Event()

    async def work(update: Update, _context: CallbackContext[Any, Any, Any, Any]) -> None:
        events.append(f"work {update.update_id}")
        if update.update_id == 5:
            all_worked.set()

    monkeypatch.setattr(Poller, "_fetch", counted_fetch)
    app.add_handler(MessageHandler(filters.ALL, work))
    poller = Poller(Pipeline(app, sqlite_engine), allowed_updates=["message"], poll_timeout=1)
    stop = asyncio.Event()
    polling = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(all_worked.wait(), 5)
    stop.set()
    await asyncio.wait_for(polling, 5)
    assert events[:2] == ["fetch", "fetch"]  # the second asked before the first batch's work
    assert [e for e in events if e.startswith("work")] == [f"work {n}" for n in range(1, 6)]


def _received(update_id: int, chat_id: int | None) -> Received:
    return Received(Update.de_json(_update(update_id, chat_id or 1), None), chat_id)


async def test_chat_queues_keep_each_chat_in_order_and_let_other_chats_pass() -> None:
    done: dict[int | None, list[int]] = {}
    release_slow = asyncio.Event()
    others_done = asyncio.Event()

    async def work(received: Received) -> None:
        if received.chat_id == -1:  # the slow chat: stuck until released
            await release_slow.wait()
        else:
            await asyncio.sleep(0.001 * (received.update_id % 3))
        done.setdefault(received.chat_id, []).append(received.update_id)
        if sum(len(ids) for chat, ids in done.items() if chat != -1) == 200:
            others_done.set()

    queues = ChatQueues(work, concurrency=4, capacity=1000)
    start = time.monotonic()
    for update_id in range(1, 301):
        chat = -1 if update_id <= 100 else -(2 + update_id % 5)
        queues.put(_received(update_id, chat))
    await asyncio.wait_for(others_done.wait(), 5)
    others = time.monotonic() - start
    assert -1 not in done  # stuck, and holding one slot only
    release_slow.set()
    await asyncio.wait_for(queues.join(), 5)
    assert done[-1] == list(range(1, 101))
    for key, ids in done.items():
        assert ids == sorted(ids), key
    assert sum(len(ids) for ids in done.values()) == 300
    assert others < 2.0


async def test_chat_queues_report_when_full_and_close_leaves_the_rest() -> None:
    gate = asyncio.Event()
    worked: list[int] = []

    async def work(received: Received) -> None:
        await gate.wait()
        worked.append(received.update_id)

    queues = ChatQueues(work, concurrency=2, capacity=3)
    for update_id in range(1, 4):
        queues.put(_received(update_id, -1))
    waiter = asyncio.create_task(queues.wait_for_room())
    await asyncio.sleep(0.01)
    assert not waiter.done()  # three waiting: the fetcher pauses
    gate.set()
    await asyncio.wait_for(waiter, 2)
    await queues.join()
    gate.clear()
    queues.put(_received(4, -1))
    queues.put(_received(5, -1))
    await asyncio.sleep(0.01)
    await queues.close(grace=0.05)  # 4 is stuck in work: cancelled; 5 never started
    assert worked == [1, 2, 3]
    assert queues.waiting == 0


# ---- the webhook endpoint ----------------------------------------------------------------------


@pytest.fixture
async def client(
    app: AnyApp, sqlite_engine: Engine
) -> AsyncIterator[tuple[TestClient[Any, Any], Recorder]]:
    pipeline, recorder = _wire(app, sqlite_engine)
    server = TestServer(webhook_app(pipeline, secret=SECRET, is_serving=lambda: True))
    async with TestClient(server) as test_client:
        yield test_client, recorder


async def test_webhook_refuses_without_the_secret(
    client: tuple[TestClient[Any, Any], Recorder], sqlite_engine: Engine
) -> None:
    http, recorder = client
    body = _update(1, -100)
    assert (await http.post("/telegram", json=body)).status == 403
    wrong = {SECRET_HEADER: SECRET + "x"}
    assert (await http.post("/telegram", json=body, headers=wrong)).status == 403
    assert (await http.post("/telegram", json=body, headers={SECRET_HEADER: ""})).status == 403
    assert recorder.seen == []
    assert _inbox(sqlite_engine) == {}


async def test_webhook_caps_the_body_and_refuses_what_is_no_update(
    client: tuple[TestClient[Any, Any], Recorder], sqlite_engine: Engine
) -> None:
    http, recorder = client
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    huge = io.BytesIO(json.dumps(_update(1, -100, "x" * MAX_BODY_BYTES)).encode())
    assert (await http.post("/telegram", data=huge, headers=headers)).status == 413
    assert (await http.post("/telegram", data=b"{not json", headers=headers)).status == 400
    assert (await http.post("/telegram", data=b"[1, 2]", headers=headers)).status == 400
    assert recorder.seen == []
    assert _inbox(sqlite_engine) == {}


async def test_webhook_answers_after_processing_and_once_only(
    client: tuple[TestClient[Any, Any], Recorder], sqlite_engine: Engine
) -> None:
    http, recorder = client
    headers = {SECRET_HEADER: SECRET}
    recorder.failures_left = {2: 1}
    assert (await http.post("/telegram", json=_update(1, -100), headers=headers)).status == 200
    assert recorder.written == [1]  # processed and committed before the answer
    assert (await http.post("/telegram", json=_update(1, -100), headers=headers)).status == 200
    assert recorder.seen == [1]  # a redelivery of a processed update changes nothing
    assert (await http.post("/telegram", json=_update(2, -100), headers=headers)).status == 500
    assert (await http.post("/telegram", json=_update(2, -100), headers=headers)).status == 200
    assert recorder.written == [1, 2]
    assert _inbox(sqlite_engine) == {1: ("handled", 0, True), 2: ("handled", 1, True)}
    assert (await http.get("/healthz")).status == 200


async def test_the_notice_of_an_update_set_aside_does_not_hold_up_the_fetch(
    app: AnyApp, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person is told from the chat's sender: `set_aside` (called in the polling fetch
    loop) returns while Telegram has not answered the notice yet."""
    pipeline = Pipeline(app, sqlite_engine)
    told: list[dict[str, Any]] = []
    answer = asyncio.Event()

    async def notice(update: dict[str, Any]) -> None:
        await answer.wait()  # Telegram slow to answer
        told.append(update)

    monkeypatch.setattr(app, "bot_data", SimpleNamespace(set_aside_notice=notice))
    payload = json.dumps(_update(7, -100))
    fetched = asyncio.create_task(pipeline.set_aside([Poison(7, payload, "KeyError")]))
    done, _ = await asyncio.wait([fetched], timeout=2)
    assert done, "the fetch waited for the notice"
    assert fetched.result() == 1
    assert told == []
    answer.set()
    await pipeline.senders.join()
    assert [u["update_id"] for u in told] == [7]
