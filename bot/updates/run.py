"""Running the application: long polling or the webhook server, until SIGINT or SIGTERM.

python-telegram-bot's Application keeps its lifecycle (initialize, start, the JobQueue with the
reminder sweep, error handlers, post_init/post_stop/post_shutdown hooks, stop, shutdown); only
getting updates to it is done here, through the inbox (bot/updates/pipeline.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from telegram.ext import Application, CallbackContext

from bot import health
from bot.context import BotData
from bot.settings import Settings
from bot.updates.pipeline import Pipeline
from bot.updates.polling import Poller, until_stopped
from bot.updates.webhook import PATH, start_webhook_server

log = logging.getLogger(__name__)

WEBHOOK_MAX_CONNECTIONS = 40
DATABASE_THREADS = 32
PURGE_EVERY = timedelta(hours=6)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


async def _initialized(application: AnyApplication) -> bool:
    await application.initialize()
    return True


async def _close_requests(application: AnyApplication) -> None:
    requests = [application.bot.request, getattr(application.bot_data, "updates_request", None)]
    for request in requests:
        if request is not None:
            with contextlib.suppress(Exception):
                await request.shutdown()


def run_application(
    application: AnyApplication,
    engine: Engine,
    settings: Settings,
    *,
    allowed_updates: Sequence[str],
) -> None:
    """Serve until SIGINT or SIGTERM: webhook when WEBHOOK_URL is set, long polling otherwise."""

    async def until_signalled() -> None:
        stop = asyncio.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(number, stop.set)
        await serve(application, engine, settings, list(allowed_updates), stop)

    asyncio.run(until_signalled())


async def serve(
    application: AnyApplication,
    engine: Engine,
    settings: Settings,
    allowed_updates: list[str],
    stop: asyncio.Event,
) -> None:
    """Serve until `stop` is set (the process's signals, or a test's hand)."""
    loop = asyncio.get_running_loop()
    # the threads for work off the loop: PostgreSQL's database lanes, sweeps, renders
    loop.set_default_executor(ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="db"))
    data = application.bot_data
    pipeline = Pipeline(
        application, engine, lanes=data.lanes if isinstance(data, BotData) else None
    )
    initialized: bool | None = None
    try:
        # a stop while Telegram does not answer yet (getMe retried with backoff) ends the wait
        initialized = await until_stopped(_initialized(application), stop)
    finally:
        if not initialized:
            # e.g. Telegram refused the token: close the HTTP sessions opened before the
            # refusal (python-telegram-bot's shutdown skips a bot whose start-up failed)
            await _close_requests(application)
            await pipeline.close()
    if not initialized:
        log.info("stopped before Telegram answered")
        return
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                _purge_job(pipeline), interval=PURGE_EVERY, first=60, name="inbox-purge"
            )
        # what the outbox holds unsent from before a stop or a crash goes out now (SPEC §12)
        # (queued per chat before the first update is handled: a chat's older posts go first)
        unsent = getattr(data, "deliver_unsent", None)
        left_over = None
        if unsent is not None:
            queued = asyncio.Event()
            left_over = asyncio.create_task(unsent(pipeline.senders, queued), name="outbox")
            waiting = asyncio.create_task(queued.wait())
            await asyncio.wait(
                [left_over, waiting], timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
            waiting.cancel()
        try:
            if settings.webhook_url:
                await _webhook(pipeline, settings, allowed_updates, stop)
            else:
                await _polling(pipeline, settings, allowed_updates, stop)
        finally:
            if left_over is not None:  # what is not sent by now stays for the next start
                left_over.cancel()
                await asyncio.gather(left_over, return_exceptions=True)
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await pipeline.close()
        release = getattr(data, "release_unsent", None)
        if initialized and release is not None:  # what is left in the outbox: free to take
            try:
                await release()
            except Exception as exc:  # the claims run out by themselves after their lease
                log.warning("outbox: claims not released: %s", type(exc).__name__)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _polling(
    pipeline: Pipeline, settings: Settings, allowed_updates: list[str], stop: asyncio.Event
) -> None:
    poller = Poller(pipeline, allowed_updates=allowed_updates)
    runner: web.AppRunner | None = None
    if settings.server_port is not None:
        runner = await health.start_health_server(
            engine=pipeline.engine,
            is_serving=lambda: (
                pipeline.application.running and not stop.is_set() and poller.fetching()
            ),
            host=settings.server_listen,
            port=settings.server_port,
            extra=_miniapp(pipeline, settings),
        )
    elif settings.miniapp_enabled:
        log.warning("the Mini App is set up, but no HTTP_PORT is set to serve it")
    log.info("starting long polling")
    try:
        await poller.run(stop)
    finally:
        if runner is not None:
            await runner.cleanup()


async def _webhook(
    pipeline: Pipeline, settings: Settings, allowed_updates: list[str], stop: asyncio.Event
) -> None:
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None  # the settings refuse a webhook without one
    secret = settings.webhook_secret.get_secret_value()
    log.info("starting webhook on %s:%s", settings.webhook_listen, settings.webhook_port)

    def serving() -> bool:
        return pipeline.application.running and not stop.is_set()

    runner = await start_webhook_server(
        pipeline,
        secret=secret,
        host=settings.webhook_listen,
        port=settings.webhook_port,
        is_serving=serving,
        extra=_miniapp(pipeline, settings),
    )
    monitor: web.AppRunner | None = None
    try:
        if settings.health_port is not None:  # /metrics lives here, never beside the webhook
            monitor = await health.start_health_server(
                engine=pipeline.engine,
                is_serving=serving,
                host=settings.health_listen,
                port=settings.health_port,
            )
        await pipeline.application.bot.set_webhook(
            url=f"{settings.webhook_url}{PATH}",
            secret_token=secret,
            allowed_updates=allowed_updates,
            max_connections=WEBHOOK_MAX_CONNECTIONS,
        )
        replay = asyncio.create_task(pipeline.replay_all(), name="inbox-replay")
        await stop.wait()
        replay.cancel()
        await asyncio.gather(replay, return_exceptions=True)
    finally:
        await runner.cleanup()  # answers the requests in work first
        if monitor is not None:
            await monitor.cleanup()


def _miniapp(pipeline: Pipeline, settings: Settings) -> Callable[[web.Application], None] | None:
    """The Mini App's routes (SPEC §13) when MINIAPP_URL and MINIAPP_SHORT_NAME are set (the
    application's wiring provides them: bot/app.py)."""
    data = pipeline.application.bot_data
    if not settings.miniapp_enabled or not isinstance(data, BotData):
        return None
    return data.http_routes


def _purge_job(pipeline: Pipeline) -> Any:
    async def purge_inbox(_context: CallbackContext[Any, Any, Any, Any]) -> None:
        removed = await pipeline.purge()
        if removed:
            log.info("inbox: forgot %s processed updates older than a week", removed)

    return purge_inbox
