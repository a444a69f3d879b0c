"""python-telegram-bot's HTTP client on aiohttp: the same behaviour as its HTTPXRequest.

httpx spends several times the CPU of aiohttp per Bot API call against the same server, and the
HTTP client is what caps the bot's throughput. This class implements the documented
`telegram.request.BaseRequest` interface on one `aiohttp.ClientSession` with a keep-alive
`TCPConnector`, and mirrors `telegram.request.HTTPXRequest` (22.x):

* a request without files is sent as an urlencoded form (`RequestData.url_encoded_parameters`),
  one with files as multipart/form-data (the parameters, then `RequestData.multipart_data`);
* the four timeouts default to the values given here unless a call passes its own; an upload's
  write timeout defaults to `media_write_timeout`;
* a timeout becomes `telegram.error.TimedOut`, any other client error
  `telegram.error.NetworkError` naming the aiohttp exception class; the HTTP status and body are
  returned as they are (PTB turns them into its errors, e.g. `RetryAfter` for a 429).

aiohttp's timeouts are not httpx's, so they are mapped:

* read_timeout → `sock_read`: the longest wait for response data once the request is sent;
* connect_timeout → `connect` and `sock_connect`: getting a connection (opening it if needed);
* pool_timeout: aiohttp's pool has no timeout of its own (its `connect` covers waiting for a free
  connection and opening one together), so the pool is a semaphore of `connection_pool_size` in
  front of the connector, and waiting for it longer than pool_timeout is a TimedOut that says the
  request was not sent, as with httpx;
* write_timeout: aiohttp has no write timeout of its own, so it bounds the whole call together
  with the others (`total` = connect + write + read); `None` in any of them leaves the total
  unbounded.

Only public python-telegram-bot names are used: "use the default" is recognised as any timeout
value that is neither a number nor None (PTB passes `BaseRequest.DEFAULT_NONE` or another
`DefaultValue`; the class itself lives in the private `telegram._utils`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from http import HTTPStatus
from typing import Any, TypeAlias

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_LOGGER = logging.getLogger(__name__)

# What PTB privately calls ODVInput[float]: a float, None, or a DefaultValue meaning "the default".
TimeoutArgument: TypeAlias = object

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _chosen(value: TimeoutArgument, default: float | None) -> float | None:
    """The timeout a call asked for, or the default when it passed a DefaultValue."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _sum(*parts: float | None) -> float | None:
    """The sum of timeouts, unbounded (None) if any of them is."""
    total = 0.0
    for part in parts:
        if part is None:
            return None
        total += part
    return total


class AiohttpRequest(BaseRequest):
    """`telegram.request.BaseRequest` on aiohttp; arguments as `HTTPXRequest`'s.

    Args:
        connection_pool_size: connections the pool keeps open at most (default 256, as PTB's).
        read_timeout, write_timeout, connect_timeout, pool_timeout: defaults in seconds (None:
            no limit) used unless a call passes its own; see the module text for the mapping.
        media_write_timeout: the write timeout of calls that upload files (default 20).
        keepalive_timeout: seconds an idle connection stays open for reuse (default 30).
        proxy: an HTTP proxy URL for every call, or None.
    """

    __slots__ = (
        "_connect_timeout",
        "_connection_pool_size",
        "_keepalive_timeout",
        "_media_write_timeout",
        "_plain_timeout",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_slots",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        keepalive_timeout: float = 30.0,
        proxy: str | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._keepalive_timeout = keepalive_timeout
        self._proxy = proxy
        # The session needs a running event loop, so it is made in initialize().
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._plain_timeout = self._timeout(read_timeout, write_timeout, connect_timeout)

    @property
    def read_timeout(self) -> float | None:
        """See `BaseRequest.read_timeout`: the default read timeout in seconds."""
        return self._read_timeout

    @staticmethod
    def _timeout(
        read: float | None, write: float | None, connect: float | None
    ) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=_sum(connect, write, read), connect=connect, sock_connect=connect, sock_read=read
        )

    async def initialize(self) -> None:
        """See `BaseRequest.initialize`: open the session (again, after a shutdown)."""
        if self._session is not None and not self._session.closed:
            return
        self._slots = asyncio.Semaphore(self._connection_pool_size)
        connector = aiohttp.TCPConnector(
            limit=self._connection_pool_size,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_timeout,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            timeout=self._plain_timeout,
            proxy=self._proxy,
        )

    async def shutdown(self) -> None:
        """See `BaseRequest.shutdown`: close the session and its connections."""
        if self._session is None or self._session.closed:
            _LOGGER.debug("This AiohttpRequest is already shut down. Returning.")
            return
        await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: TimeoutArgument = BaseRequest.DEFAULT_NONE,
        write_timeout: TimeoutArgument = BaseRequest.DEFAULT_NONE,
        connect_timeout: TimeoutArgument = BaseRequest.DEFAULT_NONE,
        pool_timeout: TimeoutArgument = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`."""
        session, slots = self._session, self._slots
        if session is None or slots is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        files = request_data.multipart_data if request_data is not None else None
        data: Any = None
        headers: dict[str, str] | None = None
        if files:
            form = aiohttp.FormData(quote_fields=False)
            assert request_data is not None
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (file_name, content, mime_type) in files.items():
                form.add_field(name, content, filename=file_name, content_type=mime_type)
            data = form
        elif request_data is not None:
            data = request_data.url_encoded_parameters().encode()
            headers = _FORM

        plain_write = self._write_timeout if not files else self._media_write_timeout
        if (
            not files
            and read_timeout is BaseRequest.DEFAULT_NONE
            and write_timeout is BaseRequest.DEFAULT_NONE
            and connect_timeout is BaseRequest.DEFAULT_NONE
        ):
            timeout = self._plain_timeout
        else:
            timeout = self._timeout(
                _chosen(read_timeout, self._read_timeout),
                _chosen(write_timeout, plain_write),
                _chosen(connect_timeout, self._connect_timeout),
            )

        if slots.locked():
            try:
                async with asyncio.timeout(_chosen(pool_timeout, self._pool_timeout)):
                    await slots.acquire()
            except TimeoutError as err:
                raise TimedOut(
                    message=(
                        "Pool timeout: All connections in the connection pool are occupied. "
                        "Request was *not* sent to Telegram. Consider adjusting the connection "
                        "pool size or the pool timeout."
                    )
                ) from err
        else:
            await slots.acquire()  # free: returns at once
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The class name helps when the message of `err` is empty.
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            slots.release()


class UpdatesRequest(AiohttpRequest):
    """The request for getUpdates, keeping the updates' JSON as Telegram sent it.

    The inbox stores each update's JSON; encoding the parsed `Update` again costs more CPU than
    the rest of the update's work, so the poller takes the original from here (one getUpdates
    runs at a time).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._results: dict[int, str] = {}

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, body = await super().do_request(*args, **kwargs)
        self._results = {}
        if status == HTTPStatus.OK:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                for item in json.loads(body)["result"]:
                    self._results[int(item["update_id"])] = json.dumps(item, ensure_ascii=False)
        return status, body

    def take_payloads(self) -> dict[int, str]:
        """The JSON of each update of the last answer, by update id (then forgotten)."""
        results, self._results = self._results, {}
        return results
