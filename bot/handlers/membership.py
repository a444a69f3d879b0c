"""The bot's own membership: removed, re-added, and groups upgraded to supergroups."""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.context import Context
from bot.store import queries
from bot.store.tables import GroupChat

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
    """Mark a chat inactive when the bot leaves or is removed; active again when re-added."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    active = _is_member(change)
    with context.bot_data.session() as session:
        queries.remember_chat(
            session,
            chat_id=chat.id,
            kind=chat.type,
            title=chat.title or "",
            is_forum=bool(chat.is_forum),
            active=active,
        )
        if not active:
            queries.set_chat_active(session, chat_id=chat.id, active=False)
        session.commit()
    context.bot_data.admins.forget(chat.id)
    log.info("bot membership in %s: %s", chat.id, "active" if active else "inactive")


async def migrated(update: Update, context: Context) -> None:
    """A basic group became a supergroup: move everything to the new chat id."""
    message = update.effective_message
    if message is None:
        return
    old_id = message.chat.id
    new_id = message.migrate_to_chat_id
    if new_id is None:
        old_from = message.migrate_from_chat_id
        if old_from is None:
            return
        old_id, new_id = old_from, message.chat.id
    with context.bot_data.session() as session:
        queries.migrate_chat(session, old_chat_id=old_id, new_chat_id=new_id)
        session.commit()
    context.bot_data.admins.forget(old_id)
    log.info("chat %s migrated to %s", old_id, new_id)


async def still_here(update: Update, context: Context) -> None:
    """A message from a group means the bot is a member: undo an "inactive" from an old 403."""
    chat = update.effective_chat
    if chat is None or chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    with context.bot_data.session() as session:
        record = session.get(GroupChat, chat.id)
        if record is not None and not record.active:
            record.active = True
            session.commit()
            log.info("bot is back in %s", chat.id)
