"""CPU per Bot API call of python-telegram-bot's HTTPXRequest and of bot.request.AiohttpRequest.

The Bot API stand-in runs in its own process (benchmarks/standin.py), so this process's CPU time
(time.process_time) is the client's alone: a telegram.Bot sends N sendMessage calls with each
request class, one at a time (one kept-alive connection) and --concurrency at a time (a pool of
connections). Figures, not pass/fail.

Run: .venv/bin/python -m benchmarks.request_cpu [--calls 2000] [--concurrency 64] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from bot.request import AiohttpRequest

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:" + "C" * 35
CHAT_ID = -400000001  # the stand-in's one group when run alone

CLIENTS: dict[str, Callable[[], BaseRequest]] = {
    "httpx (HTTPXRequest)": lambda: HTTPXRequest(connection_pool_size=256),
    "aiohttp (AiohttpRequest)": lambda: AiohttpRequest(connection_pool_size=256),
}


async def measure(
    base_url: str, make: Callable[[], BaseRequest], calls: int, concurrency: int
) -> tuple[float, float]:
    """CPU seconds and wall seconds per call."""
    async with Bot(TOKEN, base_url=f"{base_url}/bot", request=make()) as bot:
        limit = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            async with limit:
                await bot.send_message(CHAT_ID, f"Nachricht {n}")

        await asyncio.gather(*(one(n) for n in range(min(200, calls))))  # warm-up, connections
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(calls)))
        return (time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    standin = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.standin", "--latency-ms", str(args.latency_ms)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert standin.stdout is not None
        line = standin.stdout.readline()
        if not line.startswith("PORT "):
            raise SystemExit(f"the stand-in did not start: {line!r}")
        base_url = f"http://127.0.0.1:{line.split()[1]}"
        print(
            f"{args.calls} sendMessage calls through telegram.Bot, stand-in answering in"
            f" {args.latency_ms:.0f} ms (its own process); CPU of the client process per call"
        )
        print(f"{'client':<26} {'mode':<16} {'CPU µs/call':>12} {'wall µs/call':>13}")
        figures: dict[tuple[str, int], float] = {}
        for concurrency in (1, args.concurrency):
            mode = "sequential" if concurrency == 1 else f"{concurrency} at a time"
            for name, make in CLIENTS.items():
                cpu, wall = asyncio.run(measure(base_url, make, args.calls, concurrency))
                figures[name, concurrency] = cpu
                print(f"{name:<26} {mode:<16} {cpu * 1e6:>12.0f} {wall * 1e6:>13.0f}", flush=True)
        httpx_name, aiohttp_name = CLIENTS
        for concurrency in (1, args.concurrency):
            ratio = figures[httpx_name, concurrency] / figures[aiohttp_name, concurrency]
            print(f"httpx / aiohttp CPU per call, concurrency {concurrency}: {ratio:.2f}x")
    finally:
        standin.terminate()
        standin.wait(10)


if __name__ == "__main__":
    main()
