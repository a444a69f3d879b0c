"""The webhook under hostile requests (issue 25): deeply nested JSON with the right secret is a
400, refused requests are counted rather than logged one by one, `/metrics` is not served
beside the webhook, and the server listens on loopback unless told otherwise."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine

from bot import metrics
from bot.settings import load_settings
from bot.updates.webhook import SECRET_HEADER, webhook_app
from tests.unit import test_updates
from tests.unit.test_updates import SECRET, AnyApp, Recorder, _inbox, _update, _wire

# the webhook tests' fixtures: an application against the emulator, an SQLite engine
app = test_updates.app
sqlite_engine = test_updates.sqlite_engine

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"


@pytest.fixture
async def client(
    app: AnyApp, sqlite_engine: Engine
) -> AsyncIterator[tuple[TestClient[Any, Any], Recorder]]:
    pipeline, recorder = _wire(app, sqlite_engine)
    server = TestServer(webhook_app(pipeline, secret=SECRET, is_serving=lambda: True))
    async with TestClient(server) as test_client:
        yield test_client, recorder


def refused(reason: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "sechscluster_webhook_refused_total", {"reason": reason}
    )
    return value or 0.0


async def test_deeply_nested_json_with_the_secret_is_a_400(
    client: tuple[TestClient[Any, Any], Recorder], sqlite_engine: Engine
) -> None:
    http, recorder = client
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    before = refused("not_an_update")
    for body in (
        b"[" * 200_000 + b"]" * 200_000,
        b'{"update_id": 1, "message": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001,
    ):
        assert (await http.post("/telegram", data=body, headers=headers)).status == 400
    assert refused("not_an_update") == before + 2
    assert recorder.seen == []
    assert _inbox(sqlite_engine) == {}


async def test_refused_requests_are_counted_and_logged_at_most_now_and_then(
    client: tuple[TestClient[Any, Any], Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    http, _ = client
    before = refused("secret")
    with caplog.at_level(logging.WARNING, logger="bot.updates.webhook"):
        for _ in range(50):
            response = await http.post("/telegram", json=_update(1, -100))
            assert response.status == 403
    assert refused("secret") == before + 50
    notes = [r for r in caplog.records if r.name == "bot.updates.webhook"]
    assert len(notes) <= 1


async def test_the_webhook_port_answers_healthz_but_not_metrics(
    client: tuple[TestClient[Any, Any], Recorder],
) -> None:
    http, _ = client
    assert (await http.get("/healthz")).status == 200
    assert (await http.get("/metrics")).status == 404


def test_the_webhook_listens_on_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    for name in ("WEBHOOK_LISTEN", "DATABASE_URL", "HEALTH_PORT", "WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings().webhook_listen == "127.0.0.1"
