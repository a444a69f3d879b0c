"""End-to-end (issue 25): the real bot process in webhook mode under hostile requests — refused
requests counted, not logged one by one; deeply nested JSON with the right secret a 400;
`/metrics` on HEALTH_PORT only, never beside the webhook."""

from __future__ import annotations

import httpx
import pytest

from bot.playground.emulator import World
from tests.support.harness import BotProcess
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e
SECRET = "geheim-456"


def test_hostile_webhook_requests_are_counted_refused_and_metrics_stay_apart(
    world: World, bot_process: BotProcess
) -> None:
    port, health_port = free_port(), free_port()
    bot_process.env.update(
        {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}",
            "WEBHOOK_PORT": str(port),  # WEBHOOK_LISTEN unset: loopback is the default
            "WEBHOOK_SECRET": SECRET,
            "HEALTH_PORT": str(health_port),
        }
    )
    bot_process.start(ready_method="setWebhook")
    url = f"http://127.0.0.1:{port}/telegram"
    for _ in range(40):
        assert httpx.post(url, json={"update_id": 1}).status_code == 403
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    nested = b"[" * 100_000 + b"]" * 100_000
    assert httpx.post(url, content=nested, headers=right).status_code == 400

    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
    assert httpx.get(f"http://127.0.0.1:{health_port}/healthz").status_code == 200
    metrics = httpx.get(f"http://127.0.0.1:{health_port}/metrics")
    assert metrics.status_code == 200
    assert 'sechscluster_webhook_refused_total{reason="secret"} 40.0' in metrics.text
    assert 'sechscluster_webhook_refused_total{reason="not_an_update"} 1.0' in metrics.text

    log = bot_process.log()
    assert log.count("refused") <= 1, log[-3000:]
    assert "Traceback" not in log
    assert world.refusals() == []
