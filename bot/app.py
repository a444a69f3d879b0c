"""Builds the Application: defaults, rate limiter, every handler registered in one place."""

from __future__ import annotations

import functools
import logging
import os

from sqlalchemy import Engine
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    ExtBot,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from bot.context import CONTEXT_TYPES, BotApplication, Context
from bot.handlers import (
    autopilot,
    board,
    cards,
    digest,
    entries,
    help,
    membership,
    menus,
    onboarding,
    outputs,
    overview,
    pickers,
    plan,
    privacy,
    progress,
    reminders,
    retention,
    review,
    vote,
)
from bot.handlers.core import buttons, failure, outbox, sections, sweep, unsent
from bot.handlers.core.reading import scope_of
from bot.handlers.core.send import ChatGone
from bot.miniapp import server as miniapp_server
from bot.model.catalogue import Catalogue
from bot.ratelimit import PostingRateLimiter
from bot.request import AiohttpRequest, UpdatesRequest
from bot.settings import Settings
from bot.store import erasure
from bot.store import outbox as outbox_rows
from bot.texts import Texts
from bot.updates.handling import note_failure, take_failure_notice

log = logging.getLogger(__name__)

# Every module that registers what a feature adds (button presses, sweeps, lines of /status and
# the digests, stored send kinds and continuations; bot/registry.py), imported in this one
# place. The store's modules register their erasers in bot/store/__init__.py.
FEATURES = (
    autopilot,
    cards,
    digest,
    onboarding,
    outbox,
    outputs,
    overview,
    pickers,
    plan,
    privacy,
    progress,
    reminders,
    retention,
    review,
    vote,
)
# The registries whose order is declared: each declared name must be registered (checked at start).
ORDERED_REGISTRIES = (
    sweep.SWEEPERS,
    sections.STATUS_SECTIONS,
    sections.DIGEST_SECTIONS,
    sections.PLAN_DIGEST_SECTIONS,
    erasure.PERSON_ERASERS,
    erasure.BOARD_ERASERS,
)

COMMANDS = {
    "start": onboarding.start,
    "help": help.help_command,
    "example": help.example,
    "demo": help.demo,
    "newboard": board.newboard,
    "area": board.area,
    "next": board.next_point,
    "point": board.point,
    "lang": board.lang,
    "status": board.status,
    "board": board.board_command,
    "ist": entries.ist,
    "soll": entries.soll,
    "undo": entries.undo,
    "remind": reminders.remind,
    "timezone": reminders.timezone,
    "pace": autopilot.pace,
    "quiet": digest.quiet,
    "review": review.review,
    "close": review.close,
    "reopen": review.reopen,
    "export": review.export,
    "plan": plan.plan_command,
    "measure": plan.measure_command,
    "vote": vote.vote_command,
    "privacy": privacy.privacy,
    "forgetme": privacy.forgetme,
    "deleteboard": privacy.deleteboard,
    "boards": overview.boards,
}


async def on_error(update: object, context: Context) -> None:
    """Log every failure; tell the person something went wrong, without details.

    Telegram's own refusals are expected in a long life (rights taken away, chats gone) and get
    one log line; anything else is a bug: logged with its traceback, and the update is left
    unprocessed so that it is tried again (the pipeline bounds how often).
    """
    error = context.error
    if isinstance(error, ChatGone):  # already marked inactive; nobody to tell
        log.info("chat gone while handling an update: %s", error)
        return
    if isinstance(error, TelegramError):
        log.warning("update not handled, Telegram refused: %s", str(error)[:300])
        return
    note_failure(error)
    log.error("update failed: %s", type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_message is None:
        return
    if not take_failure_notice():  # told on its first failure; the retries say nothing
        return
    message = update.effective_message
    scope = scope_of(message)
    sender = update.effective_user
    where = failure.Where(
        chat_id=scope.chat_id,
        thread_id=scope.thread_id,
        chat_type=scope.chat_type,
        message_id=message.message_id,
        person_language=((sender.language_code if sender else None) or "")[:2].casefold(),
    )
    await failure.tell(context, where)


def build_application(
    settings: Settings, engine: Engine, catalogue: Catalogue, texts: Texts
) -> BotApplication:
    """The bot, wired: defaults, rate limiter, ordered concurrency, handlers, reminder sweep."""
    check_registries()
    # Telegram's retry_after as python-telegram-bot's future type (a timedelta), which the rate
    # limiter reads either way, without the deprecation warning of the old one
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    timeout = settings.telegram_timeout_seconds
    updates_request = UpdatesRequest(
        connection_pool_size=1, connect_timeout=timeout, read_timeout=timeout + 30
    )
    bot = ExtBot(
        token=settings.telegram_bot_token.get_secret_value(),
        base_url=settings.api_base_url or "https://api.telegram.org/bot",
        base_file_url=settings.api_file_url or "https://api.telegram.org/file/bot",
        # aiohttp: a fraction of httpx's CPU per request (benchmarks/request_cpu.py)
        request=AiohttpRequest(
            connection_pool_size=128,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=2 * timeout,
            media_write_timeout=4 * timeout,
            pool_timeout=timeout,
        ),
        get_updates_request=updates_request,
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        rate_limiter=PostingRateLimiter(
            messages_per_second=settings.telegram_messages_per_second,
            group_messages_per_minute=settings.telegram_group_messages_per_minute,
        ),
    )
    application: BotApplication = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .updater(None)  # updates come through the inbox: bot/updates/
        .post_init(menus.set_menus)  # command menus and descriptions, on every start
        .build()  # type: ignore[assignment]
    )
    application.bot_data.configure(
        settings=settings, engine=engine, catalogue=catalogue, texts=texts
    )
    application.bot_data.updates_request = updates_request
    application.bot_data.set_aside_notice = failure.set_aside_notice(application)
    outbox_rows.set_lease(settings.outbox_lease_seconds)
    application.bot_data.deliver_unsent = functools.partial(unsent.deliver_unsent, application)
    application.bot_data.release_unsent = functools.partial(unsent.release, application.bot_data)
    if settings.miniapp_enabled:  # served beside /healthz, or beside the webhook
        application.bot_data.http_routes = miniapp_server.mount(application)
    register_handlers(application)
    job_queue = application.job_queue
    assert job_queue is not None, "python-telegram-bot[job-queue] is required"
    job_queue.run_repeating(
        sweep.sweep_job,
        interval=settings.reminder_sweep_seconds,
        first=1,
        name="sweep",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    return application


def check_registries() -> None:
    """Fail at start, naming them, when declared sweeps, sections or erasers were never
    registered: the module that registers them is missing from FEATURES (or bot/store)."""
    for registry in ORDERED_REGISTRIES:
        registry.check_complete()


class _Spoken(filters.UpdateFilter):
    """A message a person wrote or sent, not a service message (a topic opened, a pin, …).

    The same as ~filters.StatusUpdate.ALL, cheaper for what is most frequent: a message with
    text or a caption is never a service message, so the ~45 status checks are left out.
    """

    def filter(self, update: Update) -> bool:
        message = update.effective_message
        if message is not None and (message.text is not None or message.caption is not None):
            return True
        return not filters.StatusUpdate.ALL.check_update(update)


SPOKEN = _Spoken(name="Spoken")


def register_handlers(application: BotApplication) -> None:
    """Every handler, in the order they are tried; each update is handled by one of them."""
    new_messages = filters.UpdateType.MESSAGE
    # Replies first: the most frequent update (an entry) then passes no other handler's check
    # (the ~30 command handlers'). Their updates are disjoint: no command, no service message,
    # no edit, no button.
    application.add_handler(
        MessageHandler(
            new_messages & filters.REPLY & ~filters.COMMAND & SPOKEN, entries.reply_to_card
        )
    )
    application.add_handler(
        ChatMemberHandler(membership.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, membership.migrated))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, entries.edited))
    application.add_handler(
        CallbackQueryHandler(privacy.forget_pressed, pattern=privacy.FORGET_PATTERN)
    )
    application.add_handler(CallbackQueryHandler(buttons.pressed))
    application.add_handler(PollAnswerHandler(vote.poll_answer))
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=new_messages))
    application.add_error_handler(on_error)
