"""How many updates per second the bot handles when Telegram answers in 75 ms.

Two measurements, printed as figures (no pass/fail):

1. In-process: the bot's ChatOrderedProcessor against python-telegram-bot's sequential processing
   (the baseline, same process, same simulated work: one 75 ms Telegram call per update).
2. End to end: the real bot process against the emulator with 75 ms per Bot API call; 20 groups
   each send 10 replies to a card at once; time until every reply has its reaction.

Run: .venv/bin/python -m benchmarks.throughput
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from pathlib import Path

from telegram import Chat, Message, Update
from telegram.ext import SimpleUpdateProcessor

from bot.processor import ChatOrderedProcessor
from tests.emulator import BotApiEmulator, World
from tests.harness import BotProcess, wait_until
from tests.test_e2e_hostile import first_card

LATENCY = 0.075
GROUPS = 20
PER_GROUP = 10


def _updates() -> list[Update]:
    return [
        Update(i, message=Message(i, None, Chat(-(i % GROUPS) - 1, "group")))  # type: ignore[arg-type]
        for i in range(1, GROUPS * PER_GROUP + 1)
    ]


async def _run(processor: SimpleUpdateProcessor | ChatOrderedProcessor) -> float:
    async def handle(update: Update) -> None:
        await asyncio.sleep(LATENCY)  # the handler's one call to Telegram

    start = time.perf_counter()
    async with processor:
        await asyncio.gather(*(processor.process_update(u, handle(u)) for u in _updates()))
    return GROUPS * PER_GROUP / (time.perf_counter() - start)


def in_process() -> None:
    baseline = asyncio.run(_run(SimpleUpdateProcessor(1)))
    ordered = asyncio.run(_run(ChatOrderedProcessor(max_concurrent_updates=64)))
    print(f"in-process, {GROUPS} groups x {PER_GROUP} updates, {LATENCY * 1000:.0f} ms per update")
    print(f"  sequential (baseline): {baseline:7.1f} updates/s")
    print(f"  per-chat ordered:      {ordered:7.1f} updates/s   ratio {ordered / baseline:5.1f}x")


def end_to_end() -> None:
    with tempfile.TemporaryDirectory() as folder, BotApiEmulator(World()) as emulator:
        world = emulator.world
        people = [world.person(100 + i, f"P{i}") for i in range(GROUPS)]
        groups = [world.group(f"G{i}", owner=people[i], supergroup=True) for i in range(GROUPS)]
        bot = BotProcess(
            emulator, f"sqlite:///{Path(folder) / 'bench.sqlite3'}", Path(folder)
        ).start()
        try:
            cards = []
            for person, group in zip(people, groups, strict=True):
                world.send(group, person, "/newboard Bench")
                world.send(group, person, "/point 1")
            for group in groups:
                card = wait_until(functools.partial(first_card, world, group), what="card")
                assert card is not None
                cards.append(card)
            world.latency = LATENCY
            start = time.perf_counter()
            sent = [
                world.send(group, person, f"Antwort {n}", reply_to=card.message_id)
                for n in range(PER_GROUP)
                for person, group, card in zip(people, groups, cards, strict=True)
            ]
            wait_until(lambda: all(m.reactions for m in sent), timeout=600, what="all reactions")
            elapsed = time.perf_counter() - start
        finally:
            bot.stop()
    print(f"end to end, real bot process, emulator answering in {LATENCY * 1000:.0f} ms")
    print(
        f"  {len(sent)} replies in {GROUPS} groups stored and acknowledged in {elapsed:.2f} s: {len(sent) / elapsed:.1f} updates/s"
    )
    print(f"  (one-at-a-time processing would take at least {len(sent) * LATENCY:.1f} s)")


if __name__ == "__main__":
    in_process()
    end_to_end()
