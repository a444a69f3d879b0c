"""The one periodic sweep: every scheduled kind of post (reminders, autopilot, follow-ups,
retention) registers a function here; one JobQueue job runs them all in turn.

Each function finds what is due through an index, claims it in the database (exactly once
across restarts and processes) and sends after its commit; it returns how many it sent.
Schedules live in tables, never in the JobQueue (which does not persist jobs).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot import clock
from bot.context import Context
from bot.registry import Registry

log = logging.getLogger(__name__)

Sweeper = Callable[[Context, datetime], Awaitable[int]]
# the order they run in, each sweep once per round: the Monday digest (reminders) before the
# autopilot's posts of the same minute
SWEEPERS: Registry[Sweeper] = Registry(
    "sweeper", order=("followup", "reminders", "progress", "autopilot", "retention", "votes")
)


def sweeper(name: str) -> Callable[[Sweeper], Sweeper]:
    """Register a scheduled kind of post under `name` (a name of SWEEPERS' order)."""
    return SWEEPERS.register(name)


async def sweep_all(context: Context, now: datetime | None = None) -> dict[str, int]:
    """Run every registered sweeper once; one failing does not stop the others."""
    moment = now or clock.now()
    sent: dict[str, int] = {}
    for name, function in SWEEPERS.items():
        try:
            sent[name] = await function(context, moment)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sweep of %s failed", name)
    return sent


async def sweep_job(context: Context) -> None:
    """The periodic JobQueue callback."""
    try:
        await sweep_all(context)
    except asyncio.CancelledError:
        # the bot is shutting down; what was claimed stays claimed, the rest is due next start
        log.info("sweep interrupted by shutdown")
