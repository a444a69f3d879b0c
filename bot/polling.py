"""Confirm updates to Telegram only once they are processed, so a crash loses none.

python-telegram-bot's Updater confirms a batch (by asking for the next offset) as soon as the
batch is queued. If the process dies while the batch is still being worked on, those updates are
gone. Here the bot asks only for an offset below every update still in work, so Telegram keeps
(and redelivers) them; updates it redelivers while they are still in work are not handed out twice.
Entries are unique per Telegram message, so a redelivered reply never counts twice.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import Sequence

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import NetworkError
from telegram.ext import BaseRateLimiter, Defaults, ExtBot
from telegram.request import BaseRequest

REDELIVERY_PAUSE_SECONDS = 0.5
BATCH_SETTLE_SECONDS = 1.0
SHUTDOWN_SETTLE_SECONDS = 25.0


class UpdateLedger:
    """Which fetched updates are still in work."""

    def __init__(self) -> None:
        self._open: set[int] = set()
        self._seen: set[int] = set()
        self._changed = asyncio.Event()

    def handed_out(self, update_ids: set[int]) -> None:
        self._open |= update_ids
        self._seen |= update_ids

    def finished(self, update_id: int) -> None:
        self._open.discard(update_id)
        self._changed.set()

    def is_new(self, update_id: int) -> bool:
        return update_id not in self._seen

    def safe_offset(self, offset: int) -> int:
        """The offset that confirms only finished updates."""
        return min(offset, *self._open) if self._open else offset

    def forget_below(self, offset: int) -> None:
        self._seen = {i for i in self._seen if i >= offset}

    async def wait_progress(self, seconds: float) -> None:
        """Wait until some update finishes, or `seconds` pass."""
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            return

    async def wait_finished(self, below: int, seconds: float) -> None:
        """Wait (bounded) until every update below `below` is processed."""
        deadline = time.monotonic() + seconds
        while any(i < below for i in self._open) and time.monotonic() < deadline:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                return


def _is_zero(timeout: TimePeriod | None) -> bool:
    if isinstance(timeout, dtm.timedelta):
        return timeout.total_seconds() == 0
    return timeout == 0


class LedgerBot(ExtBot[None]):
    """An ExtBot whose getUpdates never confirms an update that is still in work."""

    def __init__(
        self,
        ledger: UpdateLedger,
        *,
        token: str,
        base_url: str,
        base_file_url: str,
        request: BaseRequest,
        get_updates_request: BaseRequest,
        defaults: Defaults,
        rate_limiter: BaseRateLimiter[int],
    ) -> None:
        super().__init__(
            token=token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=request,
            get_updates_request=get_updates_request,
            defaults=defaults,
            rate_limiter=rate_limiter,  # type: ignore[arg-type]
        )
        self._ledger = ledger

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,  # noqa: ASYNC109 - the Bot API's own parameter
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        if offset:
            # usually the batch is done within milliseconds; on shutdown let the work finish
            settle = SHUTDOWN_SETTLE_SECONDS if _is_zero(timeout) else BATCH_SETTLE_SECONDS
            await self._ledger.wait_finished(offset, settle)
            offset = self._ledger.safe_offset(offset)
            self._ledger.forget_below(offset)
        try:
            updates = await super().get_updates(
                offset=offset,
                limit=limit,
                timeout=timeout,
                allowed_updates=allowed_updates,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
                api_kwargs=api_kwargs,
            )
        except NetworkError:
            # On shutdown the Updater cancels this call without awaiting it and closes the
            # connection; the read then fails instead of being cancelled, and asyncio would log
            # that failure as "never retrieved". A call being cancelled ends as cancelled.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None
            raise
        fresh = tuple(u for u in updates if self._ledger.is_new(u.update_id))
        self._ledger.handed_out({u.update_id for u in fresh})
        if updates and not fresh:  # only updates still in work came back: wait for progress
            await self._ledger.wait_progress(REDELIVERY_PAUSE_SECONDS)
        return fresh
