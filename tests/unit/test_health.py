"""/healthz answers 200 only while the bot serves and its database answers; /metrics counts."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import test_utils
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

from bot import health, metrics
from bot.store.db import make_engine, normalise_url
from bot.updates import polling
from bot.updates.pipeline import Pipeline
from bot.updates.polling import Poller
from tests.support.ports import free_port


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    return make_engine(normalise_url(f"sqlite:///{tmp_path / 'health.sqlite3'}"))


async def _client(
    engine: Engine, is_serving: Callable[[], bool]
) -> test_utils.TestClient[Any, Any]:
    client = test_utils.TestClient(
        test_utils.TestServer(health.health_app(engine=engine, is_serving=is_serving))
    )
    await client.start_server()
    return client


@pytest.fixture
async def serving_client(sqlite_engine: Engine) -> AsyncIterator[test_utils.TestClient[Any, Any]]:
    client = await _client(sqlite_engine, lambda: True)
    yield client
    await client.close()


async def test_healthy_when_serving_and_the_database_answers(
    serving_client: test_utils.TestClient[Any, Any],
) -> None:
    response = await serving_client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "serving": True, "database": True}


async def test_unavailable_while_not_serving(sqlite_engine: Engine) -> None:
    client = await _client(sqlite_engine, lambda: False)
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {
            "status": "unavailable",
            "serving": False,
            "database": True,
        }
    finally:
        await client.close()


@pytest.mark.parametrize("broken", ["sqlite-folder-gone", "postgresql-unreachable"])
async def test_unavailable_when_the_database_does_not_answer(broken: str, tmp_path: Path) -> None:
    if broken == "sqlite-folder-gone":
        engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'bot.sqlite3'}", poolclass=NullPool)
    else:
        engine = make_engine(
            normalise_url(f"postgresql://bot:pw@127.0.0.1:{free_port()}/sechscluster")
        )
    engine.dispose()
    client = await _client(engine, lambda: True)
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {
            "status": "unavailable",
            "serving": True,
            "database": False,
        }
    finally:
        await client.close()


async def test_a_slow_database_neither_blocks_the_loop_nor_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(normalise_url(f"sqlite:///{tmp_path / 'slow.sqlite3'}"))
    event.listen(engine, "connect", lambda *_: time.sleep(1.0))
    monkeypatch.setattr(health, "DATABASE_TIMEOUT_SECONDS", 0.3)
    client = await _client(engine, lambda: True)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        started = time.monotonic()
        response = await client.get("/healthz")
        elapsed = time.monotonic() - started
        assert response.status == 503
        assert (await response.json())["database"] is False
        assert elapsed < 0.9  # the timeout answered, not the slow connect
        assert ticks >= 10  # the loop kept running while the database was asked
    finally:
        ticker.cancel()
        await client.close()
        await asyncio.sleep(1.0)  # let the slow connect in its thread finish


async def test_metrics_expose_the_counters(
    serving_client: test_utils.TestClient[Any, Any],
) -> None:
    def sample(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "ok": sample("sechscluster_updates_processed_total", kind="message", outcome="ok"),
        "failed": sample(
            "sechscluster_updates_processed_total", kind="callback_query", outcome="failed"
        ),
        "entries": sample("sechscluster_entries_saved_total"),
        "429": sample("sechscluster_telegram_errors_total", code="429"),
        "reminders": sample("sechscluster_reminders_sent_total"),
        "autopilot": sample("sechscluster_autopilot_sends_total"),
        "latency": sample("sechscluster_update_processing_seconds_count", kind="message"),
    }
    metrics.observe_update("message", 0.02)
    metrics.observe_update("message", 0.3)
    metrics.observe_update("callback_query", 0.01, failed=True)
    metrics.entry_saved()
    metrics.telegram_error(429)
    metrics.reminder_sent()
    metrics.autopilot_sent()

    response = await serving_client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    body = await response.text()
    for name in (
        "sechscluster_updates_processed_total",
        "sechscluster_update_processing_seconds_bucket",
        "sechscluster_entries_saved_total",
        "sechscluster_telegram_errors_total",
        "sechscluster_reminders_sent_total",
        "sechscluster_autopilot_sends_total",
        "process_resident_memory_bytes",
    ):
        assert f"\n{name}" in body, name
    ok = 'sechscluster_updates_processed_total{kind="message",outcome="ok"} '
    assert f"{ok}{before['ok'] + 2}" in body
    assert sample("sechscluster_updates_processed_total", kind="message", outcome="ok") == (
        before["ok"] + 2
    )
    assert sample(
        "sechscluster_updates_processed_total", kind="callback_query", outcome="failed"
    ) == (before["failed"] + 1)
    assert sample("sechscluster_entries_saved_total") == before["entries"] + 1
    assert sample("sechscluster_telegram_errors_total", code="429") == before["429"] + 1
    assert sample("sechscluster_reminders_sent_total") == before["reminders"] + 1
    assert sample("sechscluster_autopilot_sends_total") == before["autopilot"] + 1
    assert (
        sample("sechscluster_update_processing_seconds_count", kind="message")
        == before["latency"] + 2
    )


async def test_health_server_on_a_port_until_cleaned_up(sqlite_engine: Engine) -> None:
    port = free_port()
    serving = {"now": False}
    runner = await health.start_health_server(
        engine=sqlite_engine, is_serving=lambda: serving["now"], host="127.0.0.1", port=port
    )
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/healthz"
            async with session.get(url) as response:
                assert response.status == 503
            serving["now"] = True
            async with session.get(url) as response:
                assert response.status == 200
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                assert "sechscluster_entries_saved_total" in await response.text()
    finally:
        await runner.cleanup()
    with pytest.raises(ConnectionRefusedError):  # the port is closed again
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_polling_counts_as_serving_only_while_telegram_answers_getupdates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A poller whose getUpdates keeps failing (409 Conflict: another process polls) is no
    healthy bot, though its application runs."""
    poller = Poller(cast(Pipeline, object()), allowed_updates=[])
    assert poller.fetching()
    later = time.monotonic() + polling.STALE_AFTER_SECONDS + 1
    monkeypatch.setattr(polling.time, "monotonic", lambda: later)
    assert not poller.fetching()
