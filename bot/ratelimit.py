"""Telegram's flood limits, applied to what counts: posting messages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

_POSTING_PREFIXES = ("send", "edit", "copy", "forward")


class PostingRateLimiter(AIORateLimiter):
    """AIORateLimiter (30/s overall, N/min per group, retries on 429) for posting methods only.

    Reactions and look-ups such as getChatAdministrators do not post into the group, so they
    do not use up the group's per-minute budget; a 429 on them is still retried.
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        limited = endpoint.lower().startswith(_POSTING_PREFIXES)
        return await super().process_request(
            callback, args, kwargs, endpoint, data if limited else {}, rate_limit_args
        )
