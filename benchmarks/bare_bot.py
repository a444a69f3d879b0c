"""A bare python-telegram-bot bot for the burst benchmark: it only sets a reaction on replies.

Run as its own process (so that its CPU time is its own):
    python -m benchmarks.bare_bot [--concurrent N] [--aiohttp]
with TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL in the environment. Without --concurrent it is
the default Application (one update at a time); with it, `concurrent_updates(N)`. The HTTP client
is python-telegram-bot's default (httpx) unless --aiohttp asks for bot.request.AiohttpRequest.
"""

from __future__ import annotations

import argparse
import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def react(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None:
        await message.set_reaction("👍")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--aiohttp", action="store_true")
    args = parser.parse_args()
    builder = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"] + "/bot")
    )
    if args.concurrent:
        builder = builder.concurrent_updates(args.concurrent)
    if args.aiohttp:
        from bot.request import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    application = builder.build()
    application.add_handler(MessageHandler(filters.REPLY, react))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
