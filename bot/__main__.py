"""Start-up: settings → application → run (polling or webhook); and the offline commands."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from telegram import Update

from bot import logs
from bot.model.catalogue import CatalogueError, load_catalogue
from bot.settings import SettingsError, load_database_settings, load_settings
from bot.store.db import DatabaseOpenError, open_database
from bot.texts import load_texts

log = logging.getLogger("bot")


def _configure_logging() -> None:
    # the secrets are known before the settings are parsed, so nothing printed from here on
    # can carry them; LOG_FORMAT from a .env file is applied once the settings are read
    logs.add_secrets_from_environment(os.environ)
    with contextlib.suppress(SettingsError):  # a DATABASE_URL from .env, for every command
        logs.add_database_url(load_database_settings().database_url)
    logs.setup(os.environ.get("LOG_FORMAT", "text"))


# Young objects are collected after this many allocations (Python's default: 700). An update
# allocates hundreds (python-telegram-bot's objects, SQLAlchemy's results): in a burst of 1,000
# replies the collector ran 100–150 times, 30–150 ms of CPU, a full collection ~0.1 s of it;
# frozen and tuned, twice, ~10 ms (benchmarks/burst.py).
COLLECT_AFTER_ALLOCATIONS = 20_000


def _settle_collector() -> None:
    """What start-up built lives as long as the process: freeze it out of the cyclic
    collector's sight, so each collection looks at what updates allocate (a long-running
    server's usual tuning; reference counting frees the rest at once, as always)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(COLLECT_AFTER_ALLOCATIONS, older, oldest)


def run_bot() -> int:
    """Run the bot until stopped."""
    from bot.app import build_application

    try:
        settings = load_settings()
        catalogue = load_catalogue()
        texts = load_texts()
    except (SettingsError, CatalogueError) as exc:
        print(logs.redact(f"Cannot start: {exc}"), file=sys.stderr)
        return 2
    logs.add_secrets(settings.secrets())  # also those read from a .env file
    logs.add_database_url(settings.database_url)
    logs.use_format(settings.log_format)
    try:
        engine = open_database(settings.database)
    except DatabaseOpenError as exc:  # unreachable, refused, a bad path: one sentence
        print(logs.redact(f"Cannot start: {exc}"), file=sys.stderr)
        return 2
    application = build_application(settings, engine, catalogue, texts)
    from bot.updates.run import run_application

    _settle_collector()

    # polling or the webhook server, through the inbox: each update once, in order per chat
    run_application(application, engine, settings, allowed_updates=Update.ALL_TYPES)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Sechs-Cluster-Bot")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="write the demo board as text, Markdown, JSON and PNG")
    demo.add_argument("--out", type=Path, required=True)
    demo.add_argument("--lang", choices=("de", "en"), default="de")
    export = commands.add_parser(
        "export", help="write a stored board as text, Markdown, JSON and PNG"
    )
    export.add_argument("--board", type=int, required=True)
    export.add_argument("--out", type=Path, required=True)
    commands.add_parser(
        "playground",
        help="try the bot in the browser against a Telegram stand-in (nothing reaches Telegram)",
    )
    arguments = parser.parse_args(argv)
    _configure_logging()
    from bot.playground.web import playground_wanted, run_playground

    if arguments.command == "playground" or (arguments.command is None and playground_wanted()):
        return run_playground()
    if arguments.command is None:
        return run_bot()
    from bot.offline import export_board, write_demo

    if arguments.command == "demo":
        return write_demo(arguments.out, arguments.lang)
    return export_board(arguments.board, arguments.out)


if __name__ == "__main__":
    sys.exit(main())
