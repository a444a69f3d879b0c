"""The command menus, set on every start: per scope (private chats, group members, group
administrators) and language, only with commands that exist and that the audience may use; and
the bot's description and short description."""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram.error import TelegramError
from telegram.ext import CommandHandler

from bot.context import BotApplication
from bot.model.catalogue import REFERENCE_LANGUAGE
from bot.texts import Messages

log = logging.getLogger(__name__)

PRIVATE = ("start", "help", "demo", "example", "boards", "privacy", "forgetme")
MEMBERS = (
    "help",
    "ist",
    "soll",
    "undo",
    "status",
    "board",
    "example",
    "review",
    "export",
    "plan",
    "quiet",
    "privacy",
    "forgetme",
)
MODERATORS = (
    "newboard",
    "area",
    "next",
    "point",
    "close",
    "reopen",
    "remind",
    "timezone",
    "lang",
    "pace",
    "measure",
    "vote",
    "deleteboard",
)
# administrators see one menu in groups (Telegram takes the narrowest scope), so it holds both
SCOPES: tuple[tuple[BotCommandScope, tuple[str, ...]], ...] = (
    (BotCommandScopeAllPrivateChats(), PRIVATE),
    (BotCommandScopeAllGroupChats(), MEMBERS),
    (BotCommandScopeAllChatAdministrators(), MEMBERS + MODERATORS),
)


def registered_commands(application: BotApplication) -> frozenset[str]:
    """Every command the application answers."""
    return frozenset(
        command
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    )


def menu(messages: Messages, names: tuple[str, ...], available: frozenset[str]) -> list[BotCommand]:
    """The commands of one audience, in order, each with its description from prompts/."""
    return [
        BotCommand(name, messages.plain("menu_" + name))
        for name in names
        if name in available and "menu_" + name in messages.templates
    ]


async def set_menus(application: BotApplication) -> None:
    """Set menus and descriptions in every language (the reference one as the default).

    A refusal is logged and start-up goes on: the bot works without menus.
    """
    data = application.bot_data
    bot = application.bot
    available = registered_commands(application)
    for language, messages in data.texts.languages.items():
        code = None if language == REFERENCE_LANGUAGE else language
        try:
            for scope, names in SCOPES:
                await bot.set_my_commands(
                    menu(messages, names, available), scope=scope, language_code=code
                )
            await bot.set_my_description(messages.plain("bot_description"), language_code=code)
            await bot.set_my_short_description(
                messages.plain("bot_short_description"), language_code=code
            )
        except TelegramError as exc:
            log.warning("menus in %s not set: %s", language, exc)
