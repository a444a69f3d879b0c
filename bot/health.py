"""`GET /healthz` and `GET /metrics` (SPEC §8): a small aiohttp application.

The webhook server mounts `/healthz` with `add_routes` (not `/metrics`: it faces the internet);
with HEALTH_PORT set, in either mode, `start_health_server` serves both on
HEALTH_LISTEN:HEALTH_PORT (loopback by default) in the bot's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import Engine, text

from bot import metrics

log = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 5.0
ENGINE_KEY = web.AppKey("engine", Engine)
SERVING_KEY: web.AppKey[Callable[[], bool]] = web.AppKey("is_serving")


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


async def database_answers(engine: Engine) -> bool:
    """Whether `SELECT 1` answers in time (run in a thread: the loop never waits for it)."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            await asyncio.to_thread(_select_one, engine)
    except TimeoutError:
        log.warning(
            "health check: the database did not answer within %.0f s", DATABASE_TIMEOUT_SECONDS
        )
        return False
    except Exception as exc:  # any failure of the database is an unhealthy answer, not a crash
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        log.warning("health check: the database does not answer (%s)", reason)
        return False
    return True


async def _healthz(request: web.Request) -> web.Response:
    serving = bool(request.app[SERVING_KEY]())
    database = await database_answers(request.app[ENGINE_KEY])
    healthy = serving and database
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", "serving": serving, "database": database},
        status=200 if healthy else 503,
    )


async def _metrics(_request: web.Request) -> web.Response:
    body, content_type = metrics.render()
    return web.Response(body=body, headers={"Content-Type": content_type})


def add_routes(
    app: web.Application,
    *,
    engine: Engine,
    is_serving: Callable[[], bool],
    with_metrics: bool = True,
) -> None:
    """Mount GET /healthz (and GET /metrics, unless `with_metrics` is false: the webhook server,
    which faces Telegram and so the internet, answers /healthz only)."""
    app[ENGINE_KEY] = engine
    app[SERVING_KEY] = is_serving
    app.router.add_get("/healthz", _healthz)
    if with_metrics:
        app.router.add_get("/metrics", _metrics)


def health_app(
    *,
    engine: Engine,
    is_serving: Callable[[], bool],
    extra: Callable[[web.Application], None] | None = None,
) -> web.Application:
    """An application answering /healthz and /metrics (and what `extra` mounts: the Mini App)."""
    app = web.Application()
    add_routes(app, engine=engine, is_serving=is_serving)
    if extra is not None:
        extra(app)
    return app


async def start_health_server(
    *,
    engine: Engine,
    is_serving: Callable[[], bool],
    host: str,
    port: int,
    extra: Callable[[web.Application], None] | None = None,
) -> web.AppRunner:
    """Serve /healthz and /metrics (and what `extra` mounts) on host:port in the running loop;
    `await runner.cleanup()` stops it."""
    runner = web.AppRunner(
        health_app(engine=engine, is_serving=is_serving, extra=extra), access_log=None
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("health and metrics on http://%s:%s/healthz and /metrics", host, port)
    return runner
