"""Chats and the people seen in them (SPEC §7, §11): the groups the bot hears from, a basic
group's move to its supergroup id, members and their `/quiet`."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, delete, text, update
from sqlmodel import Session, col, select

from bot.store.erasure import NOT_BOARD_BOUND, person_eraser
from bot.store.tables import Board, GroupChat, GroupMember, ProgressMessage, utcnow


def remember_chat(
    session: Session, *, chat_id: int, kind: str, title: str, is_forum: bool, active: bool = True
) -> GroupChat:
    """Create or refresh the record of a chat the bot hears from."""
    chat = session.get(GroupChat, chat_id)
    if chat is None:
        chat = GroupChat(chat_id=chat_id, kind=kind, title=title, is_forum=is_forum, active=active)
        session.add(chat)
    else:
        chat.kind, chat.title, chat.is_forum = kind, title, is_forum
        if active:
            chat.active = True
        chat.updated_at = utcnow()
    return chat


def set_chat_active(session: Session, *, chat_id: int, active: bool) -> None:
    """Mark a chat as one the bot is (not) a member of."""
    chat = session.get(GroupChat, chat_id)
    if chat is None:
        session.add(GroupChat(chat_id=chat_id, kind="group", title="", active=active))
    else:
        chat.active = active
        chat.updated_at = utcnow()


_CHAT = GroupChat.__table__  # type: ignore[attr-defined]
_CHAT_CAME_BACK = (
    update(_CHAT)
    .where(_CHAT.c.chat_id == bindparam("speaking"), _CHAT.c.active.is_(False))
    .values(active=True, updated_at=bindparam("now"))
)


def chat_came_back(session: Session, *, chat_id: int) -> bool:
    """A chat marked gone speaks again: mark it active; True if it had been marked gone."""
    result = session.connection().execute(_CHAT_CAME_BACK, {"speaking": chat_id, "now": utcnow()})
    return bool(result.rowcount == 1)


def chat_is_active(session: Session, chat_id: int) -> bool:
    chat = session.get(GroupChat, chat_id)
    return chat is None or chat.active


def chat_titles(session: Session, *, chat_ids: Iterable[int]) -> dict[int, str]:
    """The groups' titles as last seen."""
    return {
        chat.chat_id: chat.title
        for chat in session.exec(
            select(GroupChat).where(col(GroupChat.chat_id).in_(list(chat_ids)))
        ).all()
    }


_MEMBER = GroupMember.__table__  # type: ignore[attr-defined]


# An upsert, written out: both databases read this one statement alike. (Built with the
# dialects' insert().on_conflict_do_update() it has no cache key in SQLAlchemy 2.0 and was
# compiled anew for every new person: 0.31 ms instead of 0.14 ms with its commit.)
_NOTE_MEMBER = text(
    "INSERT INTO group_member (chat_id, person_id, name, quiet, last_seen_at)"
    " VALUES (:chat_id, :person_id, :name, :quiet, :last_seen_at)"
    " ON CONFLICT (chat_id, person_id)"
    " DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at"
).bindparams(
    bindparam("quiet", type_=_MEMBER.c.quiet.type),
    bindparam("last_seen_at", type_=_MEMBER.c.last_seen_at.type),
)


def note_member(session: Session, *, chat_id: int, person_id: int, name: str) -> None:
    """Remember that a person spoke to the bot in a group (for the digest's "not yet from")."""
    session.connection().execute(
        _NOTE_MEMBER,
        {
            "chat_id": chat_id,
            "person_id": person_id,
            "name": name,
            "quiet": False,
            "last_seen_at": utcnow(),
        },
    )


def set_quiet(session: Session, *, chat_id: int, person_id: int, name: str, quiet: bool) -> None:
    """Whether the digest may name this person in this group (`/quiet`, `/quiet off`)."""
    member = session.get(GroupMember, (chat_id, person_id))
    if member is None:
        session.add(GroupMember(chat_id=chat_id, person_id=person_id, name=name, quiet=quiet))
        return
    member.quiet = quiet
    session.add(member)


def member_named(session: Session, *, chat_id: int, name: str) -> int | None:
    """The id of the one member of the group the bot knows by this name (any case), if one."""
    wanted = name.casefold()
    found = [
        m.person_id
        for m in session.exec(select(GroupMember).where(GroupMember.chat_id == chat_id)).all()
        if m.name.casefold() == wanted
    ]
    return found[0] if len(found) == 1 else None


def migrate_chat(session: Session, *, old_chat_id: int, new_chat_id: int) -> int:
    """Move the boards and members of a basic group to its new supergroup id.

    What was written in the old chat keeps its chat: cards, entries and prompts are messages of
    the old chat, and the new chat's message ids start again at 1, so rewriting their chat id
    would make an old message and a new one the same. A status message of the old chat cannot
    be edited any more: the next change posts a new one in the new chat.
    """
    moved = 0
    boards = select(Board.id).where(col(Board.chat_id) == old_chat_id)
    session.execute(
        update(ProgressMessage)
        .where(col(ProgressMessage.board_id).in_(boards.scalar_subquery()))
        .values(message_id=None, shown="")
    )
    result = session.execute(
        update(Board).where(col(Board.chat_id) == old_chat_id).values(chat_id=new_chat_id)
    )
    moved += result.rowcount  # type: ignore[attr-defined]
    # members seen in both chats (the new chat's updates may come first) are kept once
    seen_in_new = select(GroupMember.person_id).where(col(GroupMember.chat_id) == new_chat_id)
    session.execute(
        delete(GroupMember).where(
            col(GroupMember.chat_id) == old_chat_id,
            col(GroupMember.person_id).in_(seen_in_new.scalar_subquery()),
        )
    )
    result = session.execute(
        update(GroupMember)
        .where(col(GroupMember.chat_id) == old_chat_id)
        .values(chat_id=new_chat_id)
    )
    moved += result.rowcount  # type: ignore[attr-defined]
    old = session.get(GroupChat, old_chat_id)
    if old is not None:
        old.active = False
        if session.get(GroupChat, new_chat_id) is None:
            session.add(
                GroupChat(chat_id=new_chat_id, kind="supergroup", title=old.title, active=True)
            )
    return moved


@person_eraser("chats")
def forget_chats_of(session: Session, person_id: int) -> dict[int, int]:
    """The bot forgets that it saw the person in any group, and their private chat (its id is
    the person's id)."""
    members = session.execute(delete(GroupMember).where(col(GroupMember.person_id) == person_id))
    chats = session.execute(delete(GroupChat).where(col(GroupChat.chat_id) == person_id))
    count = int(members.rowcount) + int(chats.rowcount)  # type: ignore[attr-defined]
    return {NOT_BOARD_BOUND: count} if count else {}
