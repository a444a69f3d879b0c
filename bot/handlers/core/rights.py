"""Who may do what: the group's creator and administrators, and whoever created the board."""

from __future__ import annotations

import logging

from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.context import Context
from bot.handlers.core.reading import Person, Scope
from bot.store.tables import Board

log = logging.getLogger(__name__)

_RULERS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def rights_of(context: Context, chat_id: int, person_id: int) -> frozenset[int]:
    """`{person_id}` if the person is the group's creator or an administrator now, else empty.

    Asked live from Telegram (`getChatMember`) for every moderator action: a bot that is not an
    administrator is never told of a demotion (no `chat_member` updates), so a cached list of
    administrators would keep a demoted person's rights for as long as it is kept (SPEC §12):
    nothing is cached.
    When Telegram cannot be asked, the person counts as no administrator (a refusal is safer).
    """
    try:
        member = await context.bot.get_chat_member(chat_id, person_id)
    except TelegramError as exc:
        log.warning("could not ask for a member's rights in %s: %s", chat_id, exc)
        return frozenset()
    return frozenset({person_id}) if member.status in _RULERS else frozenset()


def is_anonymous_admin(person: Person, scope: Scope) -> bool:
    """An administrator writing as the group itself."""
    return person.id == scope.chat_id


def may_moderate(
    person: Person | None, scope: Scope, admins: frozenset[int], board: Board | None
) -> bool:
    """Moderator rights (SPEC §3): private chats, administrators, the board's creator."""
    if scope.is_private:
        return True
    if person is None:
        return False
    if is_anonymous_admin(person, scope) or person.id in admins:
        return True
    return board is not None and board.created_by == person.id
