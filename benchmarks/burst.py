"""A burst of replies to cards, acknowledged by the real bot and by bare python-telegram-bot bots.

Figures, not pass/fail. A Bot API stand-in (benchmarks/standin.py, in this process) answers every
method after --latency-ms. Each of --groups groups already has a card from the bot; 4 people in
each group then reply to it, --updates replies in all, queued at once (round robin over the
groups). For each bot, in its own process and in the same run:

* entries/s: replies / (first update available → last reaction received);
* p50, p99: acknowledgement latency of one reply (queued → its setMessageReaction received);
* CPU ms/update: the bot process's user+system CPU time (/proc/<pid>/stat) during the burst,
  per reply.

Bots: `bare-sequential` (the default Application), `bare-concurrent` (concurrent_updates(256)),
`bare-concurrent-aiohttp` (the same with bot.request.AiohttpRequest), and `bot`: the real
`python -m bot`, configured only by TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL and DATABASE_URL. Its
cards are made by driving it through the stand-in first: each group's moderator sends
`/newboard Bench` and then `/point 1`, and the message the bot sends after `/point 1` is the card.

Run: .venv/bin/python -m benchmarks.burst [--updates 1000] [--groups 50] [--latency-ms 50]
     [--only bot,bare-concurrent] [--rounds 3] [--postgres postgresql://user@host/postgres]

With --rounds N every chosen bot runs N times, the bots interleaved, and the table shows each
bot's medians: a shared machine's speed drifts by a third between runs of the same code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.standin import Group, StandIn

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:" + "B" * 35
PEOPLE_PER_GROUP = 4
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Bot:
    name: str
    argv: list[str]
    real: bool = False


BOTS = [
    Bot("bare-sequential", ["-m", "benchmarks.bare_bot"]),
    Bot("bare-concurrent", ["-m", "benchmarks.bare_bot", "--concurrent", "256"]),
    Bot(
        "bare-concurrent-aiohttp",
        ["-m", "benchmarks.bare_bot", "--concurrent", "256", "--aiohttp"],
    ),
    Bot("bot", ["-m", "bot"], real=True),
]


@dataclass
class Result:
    name: str
    total: int
    acked: int = 0
    per_second: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    cpu_ms: float = math.nan
    calls: dict[str, int] = field(default_factory=dict)
    note: str = ""


class BotFailed(Exception):
    pass


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


async def wait_for(
    condition: Callable[[], bool], seconds: float, what: str, process: asyncio.subprocess.Process
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.returncode is not None:
            raise BotFailed(f"the bot exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise BotFailed(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


async def quiet(standin: StandIn, seconds: float) -> None:
    """Wait until the bot has sent nothing for `seconds`."""
    while True:
        standin.sent_event.clear()
        try:
            await asyncio.wait_for(standin.sent_event.wait(), seconds)
        except TimeoutError:
            return


async def make_cards(
    standin: StandIn, groups: list[Group], process: asyncio.subprocess.Process
) -> dict[int, dict[str, Any]]:
    """Drive the real bot to post one card per group; the message after `/point 1` is the card."""
    for group in groups:
        standin.message(group, group.moderator, "/newboard Bench")
    await wait_for(lambda: all(g.sent for g in groups), 90, "the answers to /newboard", process)
    await quiet(standin, 0.7)
    before = {g.id: len(g.sent) for g in groups}
    for group in groups:
        standin.message(group, group.moderator, "/point 1")
    await wait_for(
        lambda: all(len(g.sent) > before[g.id] for g in groups), 90, "the cards", process
    )
    await quiet(standin, 0.7)
    cards = {}
    for group in groups:
        new = group.sent[before[group.id] :]
        marked = [m for m in new if str(m.get("text", "")).startswith("<b>1.")]
        cards[group.id] = (marked or new)[0]
    return cards


def _database(postgres: str | None, workdir: Path, name: str) -> str:
    """A new, empty database for one run: an SQLite file, or a database on `postgres`."""
    if not postgres:
        return f"sqlite:///{workdir / (name + '.sqlite3')}"
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres)
    database = f"{workdir.parent.name}_{workdir.name}".replace("-", "_").lower()
    with psycopg.connect(server.set(drivername="postgresql").render_as_string(False)) as c:
        c.autocommit = True
        c.execute(f'CREATE DATABASE "{database}"')
    return server.set(database=database).render_as_string(hide_password=False)


def environment(standin: StandIn, database_url: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "BOT_", "DATABASE_", "HEALTH_"))
    }
    env["TELEGRAM_BOT_TOKEN"] = TOKEN
    env["TELEGRAM_API_BASE_URL"] = standin.base_url
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        process.kill()
        await process.wait()


async def run_bot(bot: Bot, args: argparse.Namespace, workdir: Path) -> Result:
    result = Result(bot.name, args.updates)
    standin = await StandIn(args.latency_ms / 1000).start()
    groups = [
        standin.group(
            f"Bench {g}", [1000 + 10 * g + i for i in range(PEOPLE_PER_GROUP + 1)]
        )  # people[0] is the moderator, people[1:] reply
        for g in range(args.groups)
    ]
    log_path = workdir / f"{bot.name}.log"
    database = _database(args.postgres, workdir, bot.name) if bot.real else None
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *bot.argv,
            cwd=workdir if bot.real else REPO,
            env=environment(standin, database),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    began = time.monotonic()

    def phase(what: str) -> None:
        if args.verbose:
            print(f"  {bot.name}: {what} at {time.monotonic() - began:.1f} s", flush=True)

    try:
        await wait_for(standin.ready.is_set, 60, "the first getUpdates", process)
        phase("polling")
        if bot.real:
            cards = await make_cards(standin, groups, process)
        else:
            cards = {g.id: standin.card(g, "<b>1. Bench</b>") for g in groups}
        await wait_for(lambda: not standin.updates, 60, "the setup to be confirmed", process)
        phase("cards ready")
        await asyncio.sleep(0.3)

        calls_before = dict(standin.calls)
        cpu_before = cpu_seconds(process.pid)
        start = time.monotonic()
        keys = []
        for n in range(args.updates):
            group = groups[n % len(groups)]
            person = group.people[1 + (n // len(groups)) % PEOPLE_PER_GROUP]
            message = standin.message(group, person, f"Antwort {n + 1}", cards[group.id])
            keys.append((group.id, message["message_id"]))
        deadline = max(30.0, args.updates * args.latency_ms / 1000 * 1.3 + 20)
        with contextlib.suppress(BotFailed):
            await wait_for(
                lambda: all(k in standin.reactions for k in keys), deadline, "reactions", process
            )
        phase("burst acknowledged")
        await asyncio.sleep(0.3)
        cpu = cpu_seconds(process.pid) - cpu_before if process.returncode is None else math.nan

        delays = sorted(standin.reactions[k] - start for k in keys if k in standin.reactions)
        result.acked = len(delays)
        if delays:
            result.per_second = len(delays) / delays[-1]
            result.p50_ms = percentile(delays, 0.5) * 1000
            result.p99_ms = percentile(delays, 0.99) * 1000
        result.cpu_ms = cpu * 1000 / args.updates
        result.calls = {
            method: count - calls_before.get(method, 0)
            for method, count in standin.calls.items()
            if count - calls_before.get(method, 0)
        }
        if result.acked < result.total:
            result.note = "incomplete"
    except BotFailed as exc:
        result.note = str(exc)
        tail = log_path.read_text(errors="replace").splitlines()[-30:]
        print(f"{bot.name}: {exc}; its log ends:\n  " + "\n  ".join(tail), file=sys.stderr)
    finally:
        await stop(process)
        phase("bot stopped")
        await standin.stop()
        phase("stand-in stopped")
    return result


def table(results: list[Result]) -> str:
    lines = [
        f"{'bot':<25} {'entries/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'CPU ms/update':>14}"
        f" {'acked':>11}"
    ]
    for r in results:
        lines.append(
            f"{r.name:<25} {r.per_second:>10.1f} {r.p50_ms:>9.0f} {r.p99_ms:>9.0f}"
            f" {r.cpu_ms:>14.2f} {f'{r.acked}/{r.total}':>11}" + (f"  {r.note}" if r.note else "")
        )
    named = {r.name: r for r in results}
    real = named.get("bot")
    for baseline in ("bare-concurrent", "bare-concurrent-aiohttp"):
        bare = named.get(baseline)
        if real and bare and bare.per_second and bare.p99_ms:
            lines.append(
                f"ratio bot / {baseline}: entries/s {real.per_second / bare.per_second:.2f}x,"
                f" p99 {real.p99_ms / bare.p99_ms:.2f}x,"
                f" CPU/update {real.cpu_ms / bare.cpu_ms:.2f}x"
            )
    lines.append("Bot API calls during the burst:")
    for r in results:
        calls = ", ".join(f"{m} {c}" for m, c in sorted(r.calls.items(), key=lambda i: -i[1]))
        lines.append(f"  {r.name:<25} {calls}")
    return "\n".join(lines)


def median_of(rounds: list[list[Result]]) -> list[Result]:
    """Each bot's median figures over the rounds (a shared machine's speed drifts between runs;
    the rounds interleave the bots, so each sees the same drift)."""
    medians = []
    for runs in zip(*rounds, strict=True):
        last = runs[-1]
        medians.append(
            Result(
                name=last.name,
                total=last.total,
                acked=min(r.acked for r in runs),
                per_second=statistics.median(r.per_second for r in runs),
                p50_ms=statistics.median(r.p50_ms for r in runs),
                p99_ms=statistics.median(r.p99_ms for r in runs),
                cpu_ms=statistics.median(r.cpu_ms for r in runs),
                calls=last.calls,
                note="; ".join(r.note for r in runs if r.note),
            )
        )
    return medians


async def main_async(args: argparse.Namespace) -> list[list[Result]]:
    chosen = set(args.only.split(",")) if args.only else {b.name for b in BOTS}
    unknown = chosen - {b.name for b in BOTS}
    if unknown:
        raise SystemExit(f"unknown bots {sorted(unknown)}; known: {[b.name for b in BOTS]}")
    rounds = []
    with tempfile.TemporaryDirectory(prefix="burst-") as folder:
        for number in range(1, args.rounds + 1):
            workdir = Path(folder) / f"round-{number}"
            workdir.mkdir()
            results = []
            for bot in BOTS:
                if bot.name in chosen:
                    began = time.monotonic()
                    result = await run_bot(bot, args, workdir)
                    results.append(result)
                    print(
                        f"  round {number}, {bot.name}: done in {time.monotonic() - began:.1f} s"
                        f" ({result.per_second:.0f} entries/s, p99 {result.p99_ms:.0f} ms,"
                        f" {result.cpu_ms:.2f} ms CPU/update)",
                        flush=True,
                    )
            rounds.append(results)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--only", default="", help="comma-separated bot names")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each bot; medians shown")
    parser.add_argument("--verbose", action="store_true", help="print the phases of each run")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run the bot on PostgreSQL: a server URL (e.g. postgresql://user@host/postgres) on"
        " which each run creates a database of its own (default: an SQLite file)",
    )
    args = parser.parse_args()
    print(
        f"burst: {args.updates} replies in {args.groups} groups ({PEOPLE_PER_GROUP} people each),"
        f" Bot API stand-in answering in {args.latency_ms:.0f} ms, {os.cpu_count()} cores",
        flush=True,
    )
    rounds = asyncio.run(main_async(args))
    if len(rounds) > 1:
        print(f"median of {len(rounds)} rounds:")
    print(table(median_of(rounds)))


if __name__ == "__main__":
    main()
