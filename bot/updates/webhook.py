"""The webhook endpoint: answers Telegram only after the update was processed and committed.

python-telegram-bot's own webhook server answers 200 before processing, so a crash loses what it
had accepted. Here `POST /telegram` checks the secret header in constant time, caps the body,
stores the update in the inbox, processes the chat's waiting updates in order (under the chat's
lock, across processes on PostgreSQL) and only then answers 200. A failure answers 500, so
Telegram delivers the update again; a redelivered update that is already processed answers 200
and changes nothing. `GET /healthz` is served beside it (`/metrics` is not: it is on HEALTH_PORT).

Refused requests (wrong secret, too large, not an update — also JSON nested too deep to read)
are counted in `sechscluster_webhook_refused_total{reason}`; a WARNING says how many at most
once a minute, so a scanner cannot fill the log.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable

from aiohttp import web
from telegram import Update

from bot import health, metrics
from bot.updates.pipeline import Pipeline, Poison, chat_key

log = logging.getLogger(__name__)

PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024
PIPELINE_KEY = web.AppKey("pipeline", Pipeline)
SECRET_KEY = web.AppKey("secret", bytes)
REFUSAL_LOG_SECONDS = 60.0


class _RefusalLog:
    """Counts refused requests; a WARNING at most once per `REFUSAL_LOG_SECONDS`."""

    def __init__(self) -> None:
        self.unreported: dict[str, int] = {}
        self.last = float("-inf")

    def refused(self, reason: str, status: int) -> web.Response:
        metrics.webhook_refused(reason)
        self.unreported[reason] = self.unreported.get(reason, 0) + 1
        now = time.monotonic()
        if now - self.last >= REFUSAL_LOG_SECONDS:
            counts = ", ".join(f"{n} {r}" for r, n in sorted(self.unreported.items()))
            log.warning("webhook requests refused since the last note: %s", counts)
            self.unreported.clear()
            self.last = now
        return web.Response(status=status)


REFUSALS_KEY = web.AppKey("refusals", _RefusalLog)


def webhook_app(
    pipeline: Pipeline,
    *,
    secret: str,
    is_serving: Callable[[], bool],
    extra: Callable[[web.Application], None] | None = None,
) -> web.Application:
    """The aiohttp application: POST /telegram, GET /healthz (and what `extra` mounts: the
    Mini App); `/metrics` only on the health server."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[PIPELINE_KEY] = pipeline
    app[SECRET_KEY] = secret.encode()
    app[REFUSALS_KEY] = _RefusalLog()
    app.router.add_post(PATH, _receive)
    health.add_routes(app, engine=pipeline.engine, is_serving=is_serving, with_metrics=False)
    if extra is not None:
        extra(app)
    return app


async def _receive(request: web.Request) -> web.Response:
    refusals = request.app[REFUSALS_KEY]
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, request.app[SECRET_KEY]):
        return refusals.refused("secret", 403)
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return refusals.refused("too_large", 413)
    pipeline = request.app[PIPELINE_KEY]
    try:
        body = await request.read()  # aiohttp answers 413 itself beyond client_max_size
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an update")
    except web.HTTPRequestEntityTooLarge:
        return refusals.refused("too_large", 413)
    # not JSON, not an update Telegram would send, or nested deeper than the parser goes
    except (ValueError, TypeError, KeyError, RecursionError):
        return refusals.refused("not_an_update", 400)
    try:
        update = Update.de_json(data, pipeline.application.bot)
    except Exception as exc:  # a shape the library does not know: set aside, the chat goes on
        poison = Poison(data["update_id"], body.decode(), type(exc).__name__)
        try:
            await asyncio.shield(pipeline.set_aside([poison]))
        except Exception:
            log.exception("webhook update %s could not be set aside", poison.update_id)
            return web.Response(status=500)
        return web.Response(status=200)
    # processed to the end even when Telegram hangs up meanwhile: it will ask again anyway
    done = await asyncio.shield(_settle(pipeline, update, body))
    return web.Response(status=200 if done else 500)


async def _settle(pipeline: Pipeline, update: Update, body: bytes) -> bool:
    try:
        await pipeline.receive([update], payloads=[body.decode()])
        return await pipeline.settle_chat(chat_key(update), update.update_id, known=update)
    except Exception:
        log.exception("webhook update %s could not be processed", update.update_id)
        return False


async def start_webhook_server(
    pipeline: Pipeline,
    *,
    secret: str,
    host: str,
    port: int,
    is_serving: Callable[[], bool],
    extra: Callable[[web.Application], None] | None = None,
) -> web.AppRunner:
    """Serve the webhook on host:port in the running loop; `await runner.cleanup()` stops it
    (after the requests in work are answered)."""
    runner = web.AppRunner(
        webhook_app(pipeline, secret=secret, is_serving=is_serving, extra=extra),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=10.0,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
