"""How fast the Mini App answers a board's data: a board with 500 entries (25 per point, Ist
and Soll, ~120 characters each), asked over HTTP from the bot's own aiohttp server with signed
init data, the membership known (kept for a minute, as in service). In the same run, `/board`'s
text rendering of the same board, for comparison. Target (SPEC §13): ≤ 50 ms per answer.

Run: .venv/bin/python -m benchmarks.miniapp
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlmodel import Session

from bot.app import build_application
from bot.miniapp.initdata import sign
from bot.miniapp.server import STATE_KEY, _State, mount
from bot.model.catalogue import load_catalogue
from bot.render import html
from bot.settings import Settings
from bot.store import boards as board_store
from bot.store import links
from bot.store.db import make_engine, normalise_url, upgrade_schema
from bot.store.tables import Board, Entry
from bot.texts import load_texts

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
CHAT = -100123
PERSON = 4242
ENTRIES = 500
ROUNDS = 60


def _fill(engine_url: str) -> tuple[int, str]:
    engine = make_engine(normalise_url(engine_url))
    upgrade_schema(engine)
    with Session(engine) as session:
        board = Board(
            chat_id=CHAT,
            title="Citybike 2027",
            language="de",
            created_by=PERSON,
            timezone="Europe/Berlin",
        )
        session.add(board)
        session.flush()
        assert board.id is not None
        start = datetime.now(UTC) - timedelta(days=30)
        for n in range(ENTRIES):
            session.add(
                Entry(
                    board_id=board.id,
                    point=1 + n % 20,
                    kind="ist" if n % 3 else "soll",
                    text=f"Eintrag {n}: Kunden wünschen Rahmenhöhe, Farbe & Ausstattung – "
                    "individuell, schnell geliefert und fair im Preis.",
                    author_id=1000 + n % 12,
                    author_name=f"Person {n % 12}",
                    chat_id=CHAT,
                    message_id=10_000 + n,
                    created_at=start + timedelta(minutes=n),
                )
            )
        token = links.token_for(session, board_id=board.id)
        session.commit()
        return board.id, token


def _time(work, rounds: int = ROUNDS) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _line(what: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"{what:<44} median {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms"


async def _http(settings: Settings, token: str) -> tuple[list[float], int]:
    catalogue, texts = load_catalogue(), load_texts()
    engine = make_engine(normalise_url(settings.database_url))
    application = build_application(settings, engine, catalogue, texts)
    server = web.Application()
    mount(application)(server)
    state = server[STATE_KEY]
    assert isinstance(state, _State)
    state.members.seconds = 3600
    state.members.put(CHAT, PERSON, "member")  # as asked from Telegram a moment ago
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    user = json.dumps({"id": PERSON, "first_name": "Anna", "language_code": "de"})
    data = sign({"auth_date": str(int(time.time())), "user": user, "start_param": token}, TOKEN)
    url = f"http://127.0.0.1:{port}/api/boards/{token}"
    times: list[float] = []
    size = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"tma {data}"}) as client:
        for round_ in range(ROUNDS + 5):
            start = time.perf_counter()
            async with client.get(url) as response:
                body = await response.read()
                assert response.status == 200, body[:200]
            if round_ >= 5:  # the first answers warm up caches and compile statements
                times.append((time.perf_counter() - start) * 1000)
            size = len(body)
    await runner.cleanup()
    engine.dispose()
    return times, size


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'miniapp.sqlite3'}"
        board_id, token = _fill(url)
        settings = Settings(
            telegram_bot_token=TOKEN,
            database_url=url,
            miniapp_url="https://bot.example.com/app/",
            miniapp_short_name="board",
        )
        times, size = asyncio.run(_http(settings, token))
        catalogue, texts = load_catalogue(), load_texts()
        engine = make_engine(normalise_url(url))
        model, messages = catalogue["de"], texts["de"]

        def board_text() -> None:
            with Session(engine) as session:
                board = board_store.board_by_id(session, board_id)
                assert board is not None
                view = board_store.board_view(session, board)
            list(html.board_text(model, messages, view))

        board_text()
        text_times = _time(board_text)
        print(f"board with {ENTRIES} entries; Mini App answer {size / 1024:.0f} KB of JSON")
        print(_line("Mini App GET /api/boards/<token> (HTTP)", times))
        print(_line("/board text rendering (read + render)", text_times))
        print(f"target ≤ 50 ms: {'met' if statistics.median(times) <= 50 else 'MISSED'}")
        engine.dispose()


if __name__ == "__main__":
    main()
