"""AiohttpRequest against the Bot API emulator: calls, uploads, timeouts, outages, refusals."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest

from bot.playground.emulator import BotApiEmulator, Fault, World
from bot.playground.emulator.model import BOT_USERNAME, TOKEN
from bot.request import AiohttpRequest
from tests.support.ports import free_port


def _bot(emulator: BotApiEmulator, request: BaseRequest | None = None) -> Bot:
    return Bot(
        TOKEN,
        base_url=f"{emulator.base_url}/bot",
        request=request or AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


def _username(result: object) -> object:
    assert isinstance(result, dict)
    return result["username"]


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with _bot(emulator) as running:
        yield running


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == BOT_USERNAME
    assert me.is_bot


async def test_send_message_with_markup_and_unicode(bot: Bot, world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    text = "<b>Größe</b> &amp; 🚀 ünd ?x=1&amp;y=2 #hash +plus %20"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja ✅", callback_data="yes:1")]])
    sent = await bot.send_message(group.id, text, parse_mode="HTML", reply_markup=markup)
    assert sent.text == text
    assert world.bot_texts(group) == [text]
    call = world.calls("sendMessage")[-1]
    assert call.status == 200
    assert "yes:1" in call.params["reply_markup"]


async def test_send_document_uploads_the_bytes(bot: Bot, world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    content = bytes(range(256)) * 40 + "Ende ü".encode()
    sent = await bot.send_document(
        group.id, io.BytesIO(content), filename="bericht.csv", caption="Export <i>fertig</i>"
    )
    assert sent.document is not None
    stored = world.bot_messages(group)[-1]
    assert stored.kind == "document"
    assert stored.file_name == "bericht.csv"
    assert stored.file_bytes == content
    assert stored.caption == "Export <i>fertig</i>"


async def test_send_document_from_bytes(bot: Bot, world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    await bot.send_document(group.id, b"a;b\n1;2\n", filename="t.csv")
    assert world.bot_messages(group)[-1].file_bytes == b"a;b\n1;2\n"


async def test_get_updates_long_poll_outlasts_the_read_timeout(
    emulator: BotApiEmulator, world: World
) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    request = AiohttpRequest(connection_pool_size=1, read_timeout=0.3)
    async with Bot(TOKEN, base_url=f"{emulator.base_url}/bot", get_updates_request=request) as bot:
        loop = asyncio.get_running_loop()
        loop.call_later(0.8, world.send, group, anna, "/board")
        updates = await bot.get_updates(timeout=3)
    assert [u.message.text for u in updates if u.message] == ["/board"]


async def test_read_timeout_is_timed_out(bot: Bot, world: World) -> None:
    world.inject(Fault("sendMessage", "timeout", delay=1.5))
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    with pytest.raises(TimedOut):
        await bot.send_message(group.id, "Hallo", read_timeout=0.3)


async def test_default_read_timeout_applies(emulator: BotApiEmulator, world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    async with _bot(emulator, AiohttpRequest(read_timeout=0.3)) as bot:
        world.inject(Fault("sendMessage", "timeout", delay=1.5))
        with pytest.raises(TimedOut):
            await bot.send_message(group.id, "Hallo")
        # an explicit longer timeout wins over the default
        world.inject(Fault("sendMessage", "timeout", delay=0.5))
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(group.id, "Hallo", read_timeout=3)
        assert not isinstance(caught.value, TimedOut)


async def test_dropped_connection_is_network_error(bot: Bot, world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    await bot.send_message(group.id, "warm")  # the next call reuses a kept-alive connection
    world.inject(Fault("sendMessage", "drop"))
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(group.id, "Hallo")
    assert not isinstance(caught.value, TimedOut)
    assert "aiohttp." in str(caught.value)
    # the pool recovers: the next call is answered
    assert (await bot.send_message(group.id, "wieder da")).text == "wieder da"


async def test_refused_connection_is_network_error() -> None:
    port = free_port()  # nobody listens there
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(caught.value, TimedOut)


async def test_429_is_retry_after(bot: Bot, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB's future type, without its deprecation warning
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    world.inject(Fault("sendMessage", "429", retry_after=7))
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "Hallo")
    assert caught.value.retry_after == dt.timedelta(seconds=7)


async def test_500_is_network_error_and_400_bad_request(bot: Bot, world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    world.inject(Fault("sendMessage", "500"))
    with pytest.raises(NetworkError):
        await bot.send_message(group.id, "Hallo")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(group.id, "<b>offen", parse_mode="HTML")


async def test_pool_timeout_when_every_connection_is_busy(
    emulator: BotApiEmulator, world: World
) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.2)
    async with _bot(emulator, request) as bot:
        world.inject(Fault("sendMessage", "timeout", delay=1.0))
        slow = asyncio.create_task(bot.send_message(group.id, "langsam"))
        await asyncio.sleep(0.2)
        with pytest.raises(TimedOut, match="Pool"):
            await bot.send_message(group.id, "wartet")
        with pytest.raises(NetworkError):
            await slow


async def test_lifecycle(emulator: BotApiEmulator) -> None:
    request = AiohttpRequest()
    url = f"{emulator.base_url}/bot{TOKEN}/getMe"
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(url)
    await request.initialize()
    await request.initialize()  # idempotent
    assert _username(await request.post(url)) == BOT_USERNAME
    await request.shutdown()
    await request.shutdown()  # idempotent
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(url)
    await request.initialize()  # usable again after a shutdown
    assert _username(await request.post(url)) == BOT_USERNAME
    await request.shutdown()


async def test_explicit_none_timeouts_mean_no_limit(bot: Bot, world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("Gruppe", owner=anna)
    sent = await bot.send_message(
        group.id,
        "ohne Grenze",
        read_timeout=None,
        write_timeout=None,
        connect_timeout=None,
        pool_timeout=None,
    )
    assert sent.text == "ohne Grenze"


def test_read_timeout_property_and_validation() -> None:
    assert AiohttpRequest(read_timeout=12.5).read_timeout == 12.5
    assert AiohttpRequest(read_timeout=None).read_timeout is None
    with pytest.raises(ValueError, match="connection_pool_size"):
        AiohttpRequest(connection_pool_size=0)
