"""Start-up: settings → application → run (polling or webhook); and the offline commands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from telegram import Update

from bot.model.catalogue import CatalogueError, load_catalogue
from bot.settings import SettingsError, load_settings
from bot.store.db import make_engine, upgrade_schema
from bot.texts import load_texts

log = logging.getLogger("bot")


def _configure_logging() -> None:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    # httpx logs request URLs, and a Bot API URL contains the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run_bot() -> int:
    """Run the bot until stopped."""
    from bot.app import build_application

    try:
        settings = load_settings()
        catalogue = load_catalogue()
        texts = load_texts()
    except (SettingsError, CatalogueError) as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database)
    try:
        upgrade_schema(engine)
    except Exception as exc:  # a database we cannot reach or migrate: one sentence, no traceback
        reason = str(exc).splitlines()[0][:300]
        print(
            f"Cannot start: the database could not be opened or migrated ({reason}).",
            file=sys.stderr,
        )
        return 2
    application = build_application(settings, engine, catalogue, texts)
    updates = Update.ALL_TYPES
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        log.info("starting webhook on %s:%s", settings.webhook_listen, settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=f"{settings.webhook_url}/telegram",
            secret_token=secret,
            allowed_updates=updates,
        )
    else:
        log.info("starting long polling")
        application.run_polling(allowed_updates=updates, timeout=20)
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
    arguments = parser.parse_args(argv)
    _configure_logging()
    if arguments.command is None:
        return run_bot()
    from bot.offline import export_board, write_demo

    if arguments.command == "demo":
        return write_demo(arguments.out, arguments.lang)
    return export_board(arguments.board, arguments.out)


if __name__ == "__main__":
    sys.exit(main())
