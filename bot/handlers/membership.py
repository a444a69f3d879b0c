"""The bot's own membership: removed, re-added, promoted, demoted, and groups upgraded to
supergroups. (Someone else's membership needs nothing: rights are asked from Telegram live.)"""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.error import ChatMigrated, TelegramError

from bot import clock
from bot.context import Context
from bot.handlers import onboarding
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.send import ChatGone
from bot.store import chats as chat_store
from bot.store import interaction as interaction_store
from bot.store.unit import UnitOfWork

log = logging.getLogger(__name__)

_GONE = {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}


def _is_member(change: ChatMemberUpdated) -> bool:
    member = change.new_chat_member
    if member.status in _GONE:
        return False
    if member.status == ChatMemberStatus.RESTRICTED:
        return bool(getattr(member, "is_member", True))
    return True


async def my_chat_member(update: Update, context: Context) -> None:
    """Mark a chat inactive when the bot leaves or is removed; active again when re-added (and
    greet a group that added it)."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    active = _is_member(change)
    joined = active and change.old_chat_member.status in _GONE
    data = context.bot_data
    out = Outbox(chat.id, 0)

    def remember(unit: UnitOfWork) -> None:
        session = unit.session
        chat_store.remember_chat(
            session,
            chat_id=chat.id,
            kind=chat.type,
            title=chat.title or "",
            is_forum=bool(chat.is_forum),
            active=active,
        )
        if not active:
            chat_store.set_chat_active(session, chat_id=chat.id, active=False)
        # one welcome: not again after a restart, a migration or a re-add the same day
        if joined and interaction_store.claim_welcome(session, chat_id=chat.id, now=clock.now()):
            messages = data.messages_for(change.from_user.language_code)  # whoever added the bot
            onboarding.welcome(out, messages, chat.type)
        unit.commit()

    await data.run_unit(chat.id, remember, stored=out)
    data.active_chats.forget(chat.id)
    try:
        await out.deliver(context)
    except (ChatGone, TelegramError) as exc:  # the welcome is best effort (its row: refused)
        log.info("welcome in %s not posted: %s", chat.id, exc)
    log.info("bot membership in %s: %s", chat.id, "active" if active else "inactive")


async def migrated(update: Update, context: Context) -> None:
    """A basic group became a supergroup: move everything to the new chat id.

    Only when both sides agree: the service message names the other chat, and Telegram confirms
    that the old chat was upgraded to exactly this new one (a forged update cannot move a board).
    """
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    else:
        return
    if not await _telegram_confirms(context, old_id, new_id):
        log.warning("migration of %s to %s not confirmed by Telegram; ignored", old_id, new_id)
        return
    data = context.bot_data

    def follow(unit: UnitOfWork) -> None:
        chat_store.migrate_chat(unit.session, old_chat_id=old_id, new_chat_id=new_id)
        interaction_store.move_welcome(unit.session, old_chat_id=old_id, new_chat_id=new_id)
        unit.commit()

    await data.run_unit(message.chat.id, follow)
    log.info("chat %s migrated to %s", old_id, new_id)


async def _telegram_confirms(context: Context, old_id: int, new_id: int) -> bool:
    """Telegram answers a look-up of the old chat with "upgraded to `new_id`"."""
    try:
        await context.bot.get_chat(old_id)
    except ChatMigrated as exc:
        return int(exc.new_chat_id) == new_id
    except TelegramError as exc:
        log.info("could not look up chat %s: %s", old_id, exc)
    return False
