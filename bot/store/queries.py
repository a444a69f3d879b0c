"""All queries of the bot. Each takes a session; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql as _postgresql
from sqlalchemy.dialects import sqlite as _sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.model.board import BoardHead, BoardStatus, BoardView, EntryView
from bot.model.entry_text import Kind
from bot.store.tables import (
    Board,
    Card,
    Entry,
    GroupChat,
    GroupMember,
    OutputSent,
    ProgressMessage,
    ReminderSent,
    utcnow,
)

OPEN = BoardStatus.OPEN


# ---- chats -------------------------------------------------------------------------------------


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


# ---- boards ------------------------------------------------------------------------------------


def open_board(session: Session, *, chat_id: int, thread_id: int) -> Board | None:
    """The open board of this chat and topic, if any."""
    return session.exec(
        select(Board).where(
            Board.chat_id == chat_id, Board.thread_id == thread_id, Board.status == OPEN
        )
    ).first()


def latest_board(session: Session, *, chat_id: int, thread_id: int) -> Board | None:
    """The open board here, or else the most recently created closed one."""
    board = open_board(session, chat_id=chat_id, thread_id=thread_id)
    if board is not None:
        return board
    return session.exec(
        select(Board)
        .where(Board.chat_id == chat_id, Board.thread_id == thread_id)
        .order_by(col(Board.created_at).desc(), col(Board.id).desc())
    ).first()


def board_by_id(session: Session, board_id: int) -> Board | None:
    return session.get(Board, board_id)


class BoardAlreadyOpen(Exception):
    """Another board is open in this chat and topic."""


def create_board(
    session: Session,
    *,
    chat_id: int,
    thread_id: int,
    title: str,
    language: str,
    created_by: int,
    timezone: str,
    next_reminder_at: datetime | None,
) -> Board:
    """Open a new board; raise BoardAlreadyOpen if one is open here (also under a race)."""
    if open_board(session, chat_id=chat_id, thread_id=thread_id) is not None:
        raise BoardAlreadyOpen
    board = Board(
        chat_id=chat_id,
        thread_id=thread_id,
        title=title,
        language=language,
        created_by=created_by,
        timezone=timezone,
        next_reminder_at=next_reminder_at,
    )
    try:
        with session.begin_nested():  # a lost race undoes only this board, not the unit of work
            session.add(board)
    except IntegrityError as exc:
        raise BoardAlreadyOpen from exc
    return board


def set_current_point(session: Session, *, board: Board, point: int, area: int) -> None:
    """The point (and its area) the group works on now."""
    board.current_point = point
    board.current_area = area
    session.add(board)


def set_language(session: Session, *, board: Board, language: str) -> None:
    board.language = language
    session.add(board)


def close_board(session: Session, *, board: Board) -> None:
    board.status = BoardStatus.CLOSED
    board.closed_at = utcnow()
    session.add(board)


def reopen_board(session: Session, *, board: Board) -> None:
    """Open a closed board again; raise BoardAlreadyOpen if another board is open in its place."""
    other = open_board(session, chat_id=board.chat_id, thread_id=board.thread_id)
    if other is not None and other.id != board.id:
        raise BoardAlreadyOpen
    board.status = BoardStatus.OPEN
    board.closed_at = None
    session.add(board)


_VIEW_COLUMNS = Entry.__table__.c  # type: ignore[attr-defined]
_LIVE_ENTRIES = (
    sa_select(
        _VIEW_COLUMNS.id,
        _VIEW_COLUMNS.point,
        _VIEW_COLUMNS.kind,
        _VIEW_COLUMNS.text,
        _VIEW_COLUMNS.author_id,
        _VIEW_COLUMNS.author_name,
        _VIEW_COLUMNS.created_at,
        _VIEW_COLUMNS.edited_at,
    )
    .where(_VIEW_COLUMNS.board_id == bindparam("view_board"), _VIEW_COLUMNS.removed_at.is_(None))
    .order_by(_VIEW_COLUMNS.created_at, _VIEW_COLUMNS.id)
)


def board_view(session: Session, board: Board) -> BoardView:
    """The board with its live entries, for rules and renderers (read as rows, not as ORM
    objects: a third of the time for a board of 500 entries, read by /board and the Mini App)."""
    assert board.id is not None
    session.flush()  # what the unit of work changed so far is part of the view
    rows = session.connection().execute(_LIVE_ENTRIES, {"view_board": board.id}).all()
    kinds = {kind.value: kind for kind in Kind}
    return BoardView(
        id=board.id,
        title=board.title,
        language=board.language,
        status=BoardStatus(board.status),
        created_at=board.created_at,
        entries=tuple(
            EntryView(
                id=row[0] or 0,
                point=row[1],
                kind=kinds[row[2]],
                text=row[3],
                author_id=row[4],
                author_name=row[5],
                created_at=row[6],
                edited_at=row[7],
            )
            for row in rows
        ),
    )


def filled_point_count(session: Session, board_id: int) -> int:
    """How many points have at least one live Ist entry."""
    return session.exec(
        select(func.count(func.distinct(Entry.point))).where(
            Entry.board_id == board_id,
            Entry.kind == Kind.IST.value,
            col(Entry.removed_at).is_(None),
        )
    ).one()


# ---- heavy outputs ------------------------------------------------------------------------------

OUTPUT_COOL_DOWN = timedelta(minutes=1)


def claim_heavy_output(
    session: Session, *, chat_id: int, thread_id: int, command: str, fingerprint: str
) -> bool:
    """True if `/board`, `/export` … may post now, remembering it; False when the same command
    was answered here less than a minute ago and the board has not changed since (SPEC §8)."""
    now = utcnow()
    row = session.get(OutputSent, (chat_id, thread_id, command))
    if row is None:
        session.add(
            OutputSent(
                chat_id=chat_id,
                thread_id=thread_id,
                command=command,
                fingerprint=fingerprint,
                sent_at=now,
            )
        )
        return True
    if row.fingerprint == fingerprint and now - row.sent_at < OUTPUT_COOL_DOWN:
        return False
    row.fingerprint = fingerprint
    row.sent_at = now
    return True


# ---- cards -------------------------------------------------------------------------------------


def add_card(session: Session, *, board_id: int, point: int, chat_id: int, message_id: int) -> Card:
    """Remember a posted card, so replies to it become entries of its point."""
    card = Card(board_id=board_id, point=point, chat_id=chat_id, message_id=message_id)
    session.add(card)
    return card


def card_by_message(session: Session, *, chat_id: int, message_id: int) -> Card | None:
    return session.exec(
        select(Card).where(Card.chat_id == chat_id, Card.message_id == message_id)
    ).first()


@dataclass(frozen=True)
class Looked:
    """What a reply's one query found beside its card, so that saving the entry reads nothing
    again: an entry the same message made before (a redelivery), and the board's status message
    times (`progress` None: no row yet)."""

    entry_of_message: int | None
    progress: tuple[datetime | None, datetime | None] | None  # due_at, edited_at


@dataclass(frozen=True)
class CardTarget:
    """What a reply to a card needs: its board, its point, whether that point has an Ist entry
    already (then a new entry cannot complete the board), and what saving it would read."""

    board: BoardHead
    point: int
    point_had_ist: bool
    looked: Looked


# A reply's hot path runs prebuilt Core statements: building an ORM statement, its cache key and
# the objects it loads cost several times the database's own work (benchmarks/burst.py).
_CARD = Card.__table__  # type: ignore[attr-defined]
_BOARD = Board.__table__  # type: ignore[attr-defined]
_ENTRY = Entry.__table__  # type: ignore[attr-defined]
_PROGRESS = ProgressMessage.__table__  # type: ignore[attr-defined]

_CARD_TARGET = (
    select(  # type: ignore[call-overload]
        _CARD.c.point,
        _BOARD.c.id,
        _BOARD.c.title,
        _BOARD.c.language,
        _BOARD.c.status,
        _BOARD.c.completed_at.is_not(None),
        select(_ENTRY.c.id)
        .where(
            _ENTRY.c.board_id == _CARD.c.board_id,
            _ENTRY.c.point == _CARD.c.point,
            _ENTRY.c.kind == Kind.IST.value,
            _ENTRY.c.removed_at.is_(None),
        )
        .exists(),
        select(_ENTRY.c.id)
        .where(_ENTRY.c.chat_id == _CARD.c.chat_id, _ENTRY.c.message_id == bindparam("reply_id"))
        .scalar_subquery(),
        _PROGRESS.c.board_id,
        _PROGRESS.c.due_at,
        _PROGRESS.c.edited_at,
    )
    .join(_BOARD, _BOARD.c.id == _CARD.c.board_id)
    .outerjoin(_PROGRESS, _PROGRESS.c.board_id == _CARD.c.board_id)
    .where(_CARD.c.chat_id == bindparam("chat_id"), _CARD.c.message_id == bindparam("message_id"))
)


def board_head(board: Board) -> BoardHead:
    assert board.id is not None
    return BoardHead(
        id=board.id,
        title=board.title,
        language=board.language,
        status=BoardStatus(board.status),
        complete=board.completed_at is not None,
    )


def card_target(
    session: Session, *, chat_id: int, message_id: int, reply_id: int
) -> CardTarget | None:
    """The card that is message `message_id`, for the reply `reply_id`: its board, point,
    whether the point has an Ist entry, and what saving the reply would read — in one query."""
    row = (
        session.connection()
        .execute(_CARD_TARGET, {"chat_id": chat_id, "message_id": message_id, "reply_id": reply_id})
        .first()
    )
    if row is None:
        return None
    point, board_id, title, language, status, complete, had_ist, seen, shown, due, edited = row
    board = BoardHead(board_id, title, language, BoardStatus(status), bool(complete))
    looked = Looked(seen, None if shown is None else (due, edited))
    return CardTarget(board, point, bool(had_ist), looked)


def latest_cards(session: Session, board_id: int) -> dict[int, Card]:
    """The newest card of each point of a board."""
    cards = session.exec(
        select(Card).where(Card.board_id == board_id).order_by(col(Card.created_at), col(Card.id))
    ).all()
    return {card.point: card for card in cards}


# ---- entries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    """What saving an entry did."""

    entry_id: int
    duplicate: bool
    completed_now: bool


COMPLETION_QUIET = timedelta(days=1)


def _update_completion(session: Session, board: Board, point_count: int) -> bool:
    """Keep `completed_at` in step with the entries; True when the completion is to be announced.

    A board that flips complete → incomplete → complete is announced once a day at most.
    """
    assert board.id is not None
    session.flush()
    complete = filled_point_count(session, board.id) >= point_count
    if not complete:
        board.completed_at = None
        return False
    if board.completed_at is not None:
        return False
    now = utcnow()
    board.completed_at = now
    announced = board.completion_announced_at
    if announced is not None and now - announced < COMPLETION_QUIET:
        return False
    board.completion_announced_at = now
    return True


# A message seen before is looked up first (by the unique key's index), so it adds nothing and
# rolls nothing back: the update's claim and the rest of its unit of work stay. (An upsert's
# ON CONFLICT clause has no cache key in SQLAlchemy 2.0: compiled anew for every entry, it cost
# 0.23 ms where the look-up and a plain insert cost 0.06.)
_ENTRY_OF_MESSAGE = select(_ENTRY.c.id).where(
    _ENTRY.c.chat_id == bindparam("of_chat"), _ENTRY.c.message_id == bindparam("of_message")
)
_ADD_ENTRY = _ENTRY.insert()


def add_entry(
    session: Session,
    *,
    board: BoardHead,
    point: int,
    kind: Kind,
    text: str,
    author_id: int,
    author_name: str,
    chat_id: int,
    message_id: int,
    point_count: int = 20,
    point_had_ist: bool = False,
    looked: Looked | None = None,
) -> Saved:
    """Record an entry once per Telegram message; a message seen before is a duplicate.

    `looked`: what the caller's query found already (the message's earlier entry, if any).

    `point_had_ist`: the caller knows the point had a live Ist entry before (then this entry
    cannot complete the board, and completeness need not be counted).

    The unique (chat, message) key decides, without a look-up first: a duplicate is rare (a
    redelivery under a new update id).
    """
    values = {
        "board_id": board.id,
        "point": point,
        "kind": kind.value,
        "text": text,
        "author_id": author_id,
        "author_name": author_name,
        "chat_id": chat_id,
        "message_id": message_id,
        "created_at": utcnow(),
        "edited_at": None,
        "removed_at": None,
    }
    connection = session.connection()
    if looked is not None:
        seen = looked.entry_of_message
    else:
        seen = connection.execute(
            _ENTRY_OF_MESSAGE, {"of_chat": chat_id, "of_message": message_id}
        ).scalar()
    if seen is not None:
        return Saved(int(seen), duplicate=True, completed_now=False)
    try:
        key = connection.execute(_ADD_ENTRY, values).inserted_primary_key
    except IntegrityError:  # another process stored it meanwhile (its chat lock prevents that)
        session.rollback()
        existing = entry_by_message(session, chat_id=chat_id, message_id=message_id)
        assert existing is not None
        assert existing.id is not None
        return Saved(existing.id, duplicate=True, completed_now=False)
    assert key is not None
    entry_id = int(key[0])
    # a Soll entry, one more entry on a complete board or on a filled point cannot change
    # completeness
    completed = False
    if kind is Kind.IST and not board.complete and not point_had_ist:
        row = session.get(Board, board.id)
        assert row is not None
        completed = _update_completion(session, row, point_count)
    return Saved(entry_id, duplicate=False, completed_now=completed)


def entry_by_message(session: Session, *, chat_id: int, message_id: int) -> Entry | None:
    return session.exec(
        select(Entry).where(Entry.chat_id == chat_id, Entry.message_id == message_id)
    ).first()


def edit_entry(
    session: Session,
    *,
    board: Board,
    entry: Entry,
    point: int,
    kind: Kind,
    text: str,
    point_count: int = 20,
) -> bool:
    """Replace an entry's point, text and side; True when the board just became complete."""
    entry.point = point
    entry.kind = kind.value
    entry.text = text
    entry.edited_at = utcnow()
    return _update_completion(session, board, point_count)


@dataclass(frozen=True)
class Undone:
    """What an undone entry said, for the answer; the stored row no longer has it."""

    point: int
    kind: str
    text: str
    message_id: int


def undo_last(
    session: Session, *, board: Board, author_id: int, point_count: int = 20
) -> Undone | None:
    """Remove the author's most recent live entry on this board: its text and author are
    deleted; the row stays, empty, only for what numbering needs (the plan's measure keeps its
    number through it, and an edit or redelivery of the message makes no new entry)."""
    entry = session.exec(
        select(Entry)
        .where(
            Entry.board_id == board.id,
            Entry.author_id == author_id,
            col(Entry.removed_at).is_(None),
        )
        .order_by(col(Entry.created_at).desc(), col(Entry.id).desc())
    ).first()
    if entry is None:
        return None
    undone = Undone(entry.point, entry.kind, entry.text, entry.message_id)
    remove_entry(session, board=board, entry=entry, point_count=point_count)
    return undone


def remove_entry(session: Session, *, board: Board, entry: Entry, point_count: int = 20) -> None:
    """Take one entry back, as `/undo` and the Mini App do: its text and author are deleted; an
    empty row stays only so that the plan's numbers and the message's link hold."""
    entry.removed_at = utcnow()
    entry.text = ""
    entry.author_name = ""
    entry.author_id = 0
    session.add(entry)
    empty_message_updates(session, chat_id=entry.chat_id, message_id=entry.message_id)
    _update_completion(session, board, point_count)


# ---- reminders ---------------------------------------------------------------------------------


def due_boards(session: Session, *, now: datetime, limit: int) -> list[Board]:
    """Open boards whose reminder is due, oldest first; uses the index on `next_reminder_at`.

    On PostgreSQL the rows are locked and rows locked by another process are skipped.
    """
    statement = (
        select(Board)
        .where(
            col(Board.next_reminder_at) <= now,
            Board.status == OPEN,
            col(Board.remind_weekday).is_not(None),
        )
        .order_by(col(Board.next_reminder_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(statement).all())


def claim_reminder(
    session: Session, *, board_id: int, due_at: datetime, next_at: datetime, outcome: str
) -> bool:
    """Move a board's due instant on, only if it is still `due_at`, and record the claim.

    True for the one process that wins; the unique (board, due) row makes a second claim
    impossible even after a crash or restart.
    """
    if not _move_due(session, "next_reminder_at", board_id=board_id, stored=due_at, to=next_at):
        return False
    return claim_due(session, board_id=board_id, kind="reminder", due_at=due_at, outcome=outcome)


def _move_due(
    session: Session, column: str, *, board_id: int, stored: datetime, to: datetime
) -> bool:
    """Move a board's "next due" column on, only if it still holds `stored` (one process wins;
    the loser's transaction is rolled back)."""
    due = getattr(Board, column)
    result = session.execute(
        update(Board).where(col(Board.id) == board_id, col(due) == stored).values({column: to})
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    return True


def claim_due(
    session: Session, *, board_id: int, kind: str, due_at: datetime, outcome: str = "claimed"
) -> bool:
    """Claim the post of `kind` due at `due_at` for a board: True for the one process that wins.

    The unique (board, kind, due) row makes a second claim impossible, even after a crash.
    Schedules that keep their own "next due" column move it on in the same transaction.
    """
    session.add(ReminderSent(board_id=board_id, kind=kind, due_at=due_at, outcome=outcome))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def record_reminder_outcome(
    session: Session, *, board_id: int, due_at: datetime, outcome: str, kind: str = "reminder"
) -> None:
    """What became of a claimed post (sent, chat_gone, failed …)."""
    row = session.exec(
        select(ReminderSent).where(
            ReminderSent.board_id == board_id,
            ReminderSent.kind == kind,
            ReminderSent.due_at == due_at,
        )
    ).first()
    if row is not None:
        row.outcome = outcome


def set_reminder(
    session: Session,
    *,
    board: Board,
    weekday: int | None,
    at: str,
    timezone: str,
    next_at: datetime | None,
) -> None:
    """Store a board's weekly reminder (weekday None = off) and its next due instant."""
    board.remind_weekday = weekday
    board.remind_time = at
    board.timezone = timezone
    board.next_reminder_at = next_at


# ---- inbox -------------------------------------------------------------------------------------
# Every update is stored before Telegram is told it arrived; the handler that writes claims it in
# the same transaction as its effects; the pipeline finishes it once its answers are sent
# (bot/updates/). Unfinished = `processed_at` is NULL.

from collections.abc import Sequence  # noqa: E402

from sqlalchemy import case, delete  # noqa: E402

from bot.store.tables import InboxUpdate  # noqa: E402

UPDATE_NEW = ""
UPDATE_HANDLED = "handled"  # a handler committed its effects with its claim
UPDATE_DONE = "done"  # finished without a handler's claim (nothing to write)
UPDATE_FAILED = "failed"  # given up after failed attempts


# The hot path's statements on the table itself (SQLAlchemy Core), built once: the ORM's
# bookkeeping and a statement built per call cost more CPU than the database's own work.
_INBOX = InboxUpdate.__table__  # type: ignore[attr-defined]

# one row per parameter set (executemany); RETURNING names the rows that were new, which
# drivers' rowcounts do not say reliably for ON CONFLICT DO NOTHING
_RECEIVE = {
    name: dialect.insert(_INBOX)
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(_INBOX.c.update_id, sort_by_parameter_order=True)
    for name, dialect in (("postgresql", _postgresql), ("sqlite", _sqlite))
}


def receive_update(session: Session, *, update_id: int, chat_id: int | None, payload: str) -> bool:
    """Store an update in the inbox; False when it is there already (a redelivery)."""
    return bool(receive_updates(session, updates=[(update_id, chat_id, payload)]))


def receive_updates(
    session: Session, *, updates: Sequence[tuple[int, int | None, str]]
) -> set[int]:
    """Store a batch of updates (id, chat id, JSON) in one statement; the ids that were new."""
    if not updates:
        return set()
    connection = session.connection()
    now = utcnow()
    rows = [
        {
            "update_id": update_id,
            "chat_id": chat_id,
            "payload": payload,
            "received_at": now,
            "processed_at": None,
            "attempts": 0,
            "outcome": UPDATE_NEW,
        }
        for update_id, chat_id, payload in updates
    ]
    return {row[0] for row in connection.execute(_RECEIVE[connection.dialect.name], rows)}


_CLAIM_UPDATE = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id == bindparam("claimed"),
        _INBOX.c.outcome == UPDATE_NEW,
        _INBOX.c.processed_at.is_(None),
    )
    .values(outcome=UPDATE_HANDLED)
)


def claim_update(session: Session, *, update_id: int) -> bool:
    """Claim an update for the handler whose transaction this is; False when it was claimed or
    finished already (by this or another process) — then its effects exist already."""
    result = session.connection().execute(_CLAIM_UPDATE, {"claimed": update_id})
    return bool(result.rowcount == 1)


def finish_update(session: Session, *, update_id: int, outcome: str) -> bool:
    """Mark an update finished; `outcome` unless a handler claimed it ("handled" stays).
    False when it was finished already."""
    return finish_updates(session, update_ids=[update_id], outcome=outcome) == 1


_FINISH = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id.in_(bindparam("finished", expanding=True)),
        _INBOX.c.processed_at.is_(None),
    )
    .values(
        processed_at=bindparam("now"),
        outcome=case(
            (_INBOX.c.outcome == UPDATE_NEW, bindparam("outcome")),
            else_=_INBOX.c.outcome,
        ),
    )
)


def finish_updates(session: Session, *, update_ids: Sequence[int], outcome: str) -> int:
    """Mark several updates finished in one statement (see finish_update); how many were."""
    result = session.connection().execute(
        _FINISH, {"finished": list(update_ids), "now": utcnow(), "outcome": outcome[:16]}
    )
    return int(result.rowcount)


def count_failed_attempt(session: Session, *, update_id: int) -> int:
    """Count one more failed attempt at an update; the number of attempts so far."""
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(attempts=col(InboxUpdate.attempts) + 1)
    )
    attempts = session.exec(
        select(InboxUpdate.attempts).where(InboxUpdate.update_id == update_id)
    ).first()
    return attempts or 0


def inbox_update(session: Session, *, update_id: int) -> InboxUpdate | None:
    return session.get(InboxUpdate, update_id)


def unfinished_updates(
    session: Session, *, chat_id: int | None, up_to: int | None = None, limit: int = 100
) -> list[InboxUpdate]:
    """A chat's unfinished updates (None: those without a chat), oldest first."""
    in_chat = (
        col(InboxUpdate.chat_id).is_(None) if chat_id is None else InboxUpdate.chat_id == chat_id
    )
    statement = select(InboxUpdate).where(in_chat, col(InboxUpdate.processed_at).is_(None))
    if up_to is not None:
        statement = statement.where(InboxUpdate.update_id <= up_to)
    return list(session.exec(statement.order_by(col(InboxUpdate.update_id)).limit(limit)))


def all_unfinished_updates(session: Session, *, limit: int = 1000) -> list[InboxUpdate]:
    """Every unfinished update, oldest first (replayed after a restart)."""
    return list(
        session.exec(
            select(InboxUpdate)
            .where(col(InboxUpdate.processed_at).is_(None))
            .order_by(col(InboxUpdate.update_id))
            .limit(limit)
        )
    )


def purge_processed_updates(session: Session, *, before: datetime) -> int:
    """Forget finished updates received before `before`; how many were removed."""
    result = session.execute(
        delete(InboxUpdate).where(
            col(InboxUpdate.processed_at).is_not(None), col(InboxUpdate.received_at) < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---- autopilot and digest (SPEC §7, §9) --------------------------------------------------------
# The autopilot keeps its next due instant in `board.next_pace_at` (indexed): a sweep reads only
# due rows, and claims each due instant once with a conditional update plus a claim row.


def set_pace(
    session: Session, *, board: Board, days: int | None, at: str | None, next_at: datetime | None
) -> None:
    """Store a board's autopilot (days None = off) and its next due instant."""
    board.pace_days = days
    board.pace_time = at
    board.next_pace_at = next_at
    session.add(board)


def due_paces(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Ids of boards whose autopilot is due, oldest first, through the index on `next_pace_at`.

    Closed boards are included: their due instant is claimed as skipped and moved on, so a
    board that is not due never costs a sweep anything. Only candidates: the claim locks each
    board (`lock_due_pace`, SKIP LOCKED). Locking here too let concurrent sweeps skip each
    other's short listing locks until none claimed a due board.
    """
    statement = (
        select(Board.id)
        .where(col(Board.next_pace_at) <= now, col(Board.pace_days).is_not(None))
        .order_by(col(Board.next_pace_at))
        .limit(limit)
    )
    return [board_id for board_id in session.exec(statement).all() if board_id is not None]


def lock_due_pace(session: Session, *, board_id: int, now: datetime) -> Board | None:
    """The board if its autopilot is still due, locked for this unit of work (PostgreSQL);
    None when another process holds it or has moved it on."""
    return session.exec(
        select(Board)
        .where(
            Board.id == board_id,
            col(Board.next_pace_at) <= now,
            col(Board.pace_days).is_not(None),
        )
        .with_for_update(skip_locked=True)
    ).first()


def claim_pace(
    session: Session,
    *,
    board_id: int,
    stored_due: datetime,
    due_at: datetime,
    next_at: datetime,
    outcome: str,
) -> bool:
    """Move the autopilot's due instant on, only if it is still `stored_due`, and claim
    `due_at` (kind "autopilot"): True for the one process that wins."""
    if not _move_due(session, "next_pace_at", board_id=board_id, stored=stored_due, to=next_at):
        return False
    return claim_due(session, board_id=board_id, kind="autopilot", due_at=due_at, outcome=outcome)


def mark_digest(session: Session, *, board_id: int, at: datetime) -> None:
    """The weekly digest covering everything up to `at` went out."""
    session.execute(update(Board).where(col(Board.id) == board_id).values(last_digest_at=at))


def entry_activity(session: Session, *, board_id: int, since: datetime) -> tuple[int, int]:
    """Live entries made after `since` and how many people made them."""
    count, people = session.execute(
        select(func.count(), func.count(func.distinct(Entry.author_id))).where(
            Entry.board_id == board_id,
            col(Entry.created_at) > since,
            col(Entry.removed_at).is_(None),
        )
    ).one()
    return int(count), int(people)


def silent_members(session: Session, *, board_id: int, chat_id: int) -> list[str]:
    """Names of people seen in the chat who have no live entry on the board, except those who
    asked `/quiet`; alphabetical."""
    authors = select(Entry.author_id).where(
        Entry.board_id == board_id, col(Entry.removed_at).is_(None)
    )
    rows = session.exec(
        select(GroupMember.name)
        .where(
            GroupMember.chat_id == chat_id,
            col(GroupMember.quiet).is_(False),
            col(GroupMember.person_id).not_in(authors),
        )
        .order_by(func.lower(GroupMember.name), col(GroupMember.person_id))
    ).all()
    return list(rows)


def set_quiet(session: Session, *, chat_id: int, person_id: int, name: str, quiet: bool) -> None:
    """Whether the digest may name this person in this group (`/quiet`, `/quiet off`)."""
    member = session.get(GroupMember, (chat_id, person_id))
    if member is None:
        session.add(GroupMember(chat_id=chat_id, person_id=person_id, name=name, quiet=quiet))
        return
    member.quiet = quiet
    session.add(member)


# ---- privacy (SPEC §11): forgetting a person, deleting a board, retention, the overview ---------
# Rows are deleted for real, not marked. `board_eraser`s / `person_eraser`s in bot/store/erasers.py
# call these; features with tables of their own register erasers of their own (store/erasure.py).

import json  # noqa: E402
from collections.abc import Iterable  # noqa: E402

from sqlalchemy import exists, or_  # noqa: E402
from sqlalchemy.sql.expression import ColumnElement, Exists  # noqa: E402

from bot.model.catalogue import POINT_COUNT  # noqa: E402

RETENTION_NOTICE = "retnotice"  # claim kind: the group was told its closed board will be deleted


def delete_entries_of(session: Session, *, person_id: int) -> dict[int, int]:
    """Delete every entry the person wrote (live or undone) on every board; how many per board.

    Boards that are no longer complete lose `completed_at` quietly (the next digest says so).
    """
    grouped = (
        select(Entry.board_id, func.count())
        .where(Entry.author_id == person_id)
        .group_by(col(Entry.board_id))
    )
    counts = dict(session.exec(grouped).all())
    session.execute(delete(Entry).where(col(Entry.author_id) == person_id))
    for board_id in counts:
        board = session.get(Board, board_id)
        if board is None or board.completed_at is None:
            continue
        if filled_point_count(session, board_id) < POINT_COUNT:
            board.completed_at = None
    return counts


def forget_member(session: Session, *, person_id: int) -> int:
    """The bot forgets that it saw the person in any group; how many memberships."""
    result = session.execute(delete(GroupMember).where(col(GroupMember.person_id) == person_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def disown_boards(session: Session, *, person_id: int) -> int:
    """Boards the person created keep existing without a creator (0: nobody); how many."""
    result = session.execute(
        update(Board).where(col(Board.created_by) == person_id).values(created_by=0)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def forget_private_chat(session: Session, *, person_id: int) -> int:
    """A private chat's id is the person's id: forget the chat and its cool-downs."""
    removed = session.execute(delete(OutputSent).where(col(OutputSent.chat_id) == person_id))
    chats = session.execute(delete(GroupChat).where(col(GroupChat.chat_id) == person_id))
    return int(removed.rowcount) + int(chats.rowcount)  # type: ignore[attr-defined]


def _mentions(value: object, person_id: int) -> bool:
    """Whether a Telegram object names the person (`"id"`/`"user_id"` of a user or private chat)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("id", "user_id") and type(item) is int and item == person_id:
                return True
            if isinstance(item, dict | list) and _mentions(item, person_id):
                return True
        return False
    if isinstance(value, list):
        return any(_mentions(item, person_id) for item in value)
    return False


def empty_message_updates(session: Session, *, chat_id: int, message_id: int) -> int:
    """Empty the stored payloads of the finished updates that carry one message (sent or
    edited), e.g. an entry taken back by `/undo`; how many. The rows keep their update id."""
    candidates = session.exec(
        select(InboxUpdate).where(
            col(InboxUpdate.chat_id) == chat_id,
            col(InboxUpdate.processed_at).is_not(None),
            col(InboxUpdate.payload).contains(str(message_id), autoescape=True),
        )
    ).all()
    emptied = 0
    for row in candidates:
        try:
            raw = json.loads(row.payload)
        except ValueError:
            continue
        messages = [raw.get(key) for key in ("message", "edited_message")]
        if any(isinstance(m, dict) and m.get("message_id") == message_id for m in messages):
            row.payload = json.dumps({"update_id": row.update_id})
            session.add(row)
            emptied += 1
    return emptied


def scrub_inbox(session: Session, *, person_id: int, current_update_id: int | None) -> int:
    """Empty the stored payloads of finished updates that name the person (and of the update
    being handled now); how many. The rows stay, holding only their update id, so a redelivery
    is still recognised and nothing is done twice."""
    settled: ColumnElement[bool] = col(InboxUpdate.processed_at).is_not(None)
    if current_update_id is not None:
        settled = or_(settled, col(InboxUpdate.update_id) == current_update_id)
    candidates = session.exec(
        select(InboxUpdate).where(
            settled,
            or_(
                col(InboxUpdate.payload).contains(str(person_id), autoescape=True),
                col(InboxUpdate.chat_id) == person_id,
            ),
        )
    ).all()
    scrubbed = 0
    for row in candidates:
        try:
            named = _mentions(json.loads(row.payload), person_id)
        except ValueError:
            named = True  # unreadable, and the id is in it: empty it
        if not named and row.chat_id != person_id:
            continue
        row.payload = json.dumps({"update_id": row.update_id})
        if row.chat_id == person_id:
            row.chat_id = None
        scrubbed += 1
    return scrubbed


def delete_board_rows(session: Session, *, board: Board) -> int:
    """Delete a board's cards, entries, claims of scheduled posts and its chat's cool-downs."""
    removed = 0
    for table in (Card, Entry, ReminderSent):
        result = session.execute(delete(table).where(col(table.board_id) == board.id))
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    result = session.execute(
        delete(OutputSent).where(
            col(OutputSent.chat_id) == board.chat_id, col(OutputSent.thread_id) == board.thread_id
        )
    )
    return removed + int(result.rowcount)  # type: ignore[attr-defined]


def delete_board_row(session: Session, *, board_id: int, closed_at: datetime | None = None) -> bool:
    """Delete the board itself (after its erasers); with `closed_at`, only while it is still
    closed since then (retention: another process, or a /reopen, may have come first)."""
    statement = delete(Board).where(col(Board.id) == board_id)
    if closed_at is not None:
        statement = statement.where(
            col(Board.status) == BoardStatus.CLOSED, col(Board.closed_at) == closed_at
        )
    return int(session.execute(statement).rowcount) == 1  # type: ignore[attr-defined]


def _noticed(before: datetime | None = None) -> Exists:
    """A retention notice for the board's current closing (claimed before `before`)."""
    condition = select(ReminderSent.id).where(
        col(ReminderSent.board_id) == col(Board.id),
        col(ReminderSent.kind) == RETENTION_NOTICE,
        col(ReminderSent.due_at) == col(Board.closed_at),
    )
    if before is not None:
        condition = condition.where(col(ReminderSent.claimed_at) <= before)
    return exists(condition)


def boards_to_warn(session: Session, *, closed_before: datetime, limit: int) -> list[Board]:
    """Closed boards closed before `closed_before` whose group was not yet told of the deletion."""
    return list(
        session.exec(
            select(Board)
            .where(
                Board.status == BoardStatus.CLOSED,
                col(Board.closed_at) <= closed_before,
                ~_noticed(),
            )
            .order_by(col(Board.closed_at))
            .limit(limit)
        ).all()
    )


def claim_retention_notice(session: Session, *, board: Board, now: datetime) -> bool:
    """Claim telling the group (once per closing, across processes): True for the one winner."""
    assert board.id is not None
    assert board.closed_at is not None
    session.add(
        ReminderSent(
            board_id=board.id,
            kind=RETENTION_NOTICE,
            due_at=board.closed_at,
            claimed_at=now,
            outcome="claimed",
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def boards_to_retire(
    session: Session, *, closed_before: datetime, noticed_before: datetime, limit: int
) -> list[Board]:
    """Boards closed before `closed_before` whose group was told before `noticed_before`.

    On PostgreSQL the rows are locked and rows locked by another process are skipped.
    """
    return list(
        session.exec(
            select(Board)
            .where(
                Board.status == BoardStatus.CLOSED,
                col(Board.closed_at) <= closed_before,
                _noticed(noticed_before),
            )
            .order_by(col(Board.closed_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def group_chat_ids_with_boards(session: Session) -> list[int]:
    """Every group that has a board (for `/boards`: whose rights to ask Telegram about)."""
    return list(session.exec(select(Board.chat_id).distinct().order_by(col(Board.chat_id))).all())


def boards_for_overview(
    session: Session, *, chat_ids: Iterable[int], creator_id: int
) -> list[Board]:
    """The boards of these groups and those the person created, by group and age."""
    return list(
        session.exec(
            select(Board)
            .where(or_(col(Board.chat_id).in_(list(chat_ids)), col(Board.created_by) == creator_id))
            .order_by(col(Board.chat_id), col(Board.created_at), col(Board.id))
        ).all()
    )


def chat_titles(session: Session, *, chat_ids: Iterable[int]) -> dict[int, str]:
    """The groups' titles as last seen."""
    return {
        chat.chat_id: chat.title
        for chat in session.exec(
            select(GroupChat).where(col(GroupChat.chat_id).in_(list(chat_ids)))
        ).all()
    }


# ---- tapping instead of typing (SPEC §4a) -------------------------------------------------------
# Card faces (the counts and `Weiter ▶` on a card's buttons), ForceReply prompts, the live status
# message of a board, `/close` questions and the one welcome per group.

from sqlalchemy import delete as _delete  # noqa: E402

from bot.store.erasure import board_eraser, person_eraser  # noqa: E402
from bot.store.tables import (  # noqa: E402
    CardFace,
    CloseQuestion,
    Prompt,
    WelcomeSent,
)

# a board's status message and cards are edited at most this often
PROGRESS_EVERY = timedelta(minutes=1)


def entry_counts(session: Session, *, board_id: int) -> dict[int, tuple[int, int]]:
    """Live Ist and Soll entries per point of a board: point → (ist, soll)."""
    rows = session.exec(
        select(Entry.point, Entry.kind, func.count())
        .where(Entry.board_id == board_id, col(Entry.removed_at).is_(None))
        .group_by(col(Entry.point), col(Entry.kind))
    ).all()
    counts: dict[int, tuple[int, int]] = {}
    for point, kind, number in rows:
        ist, soll = counts.get(point, (0, 0))
        counts[point] = (number, soll) if kind == Kind.IST.value else (ist, number)
    return counts


def add_card_face(
    session: Session, *, card: Card, ist: int, soll: int
) -> list[tuple[Card, CardFace]]:
    """Remember what a new card's buttons show; it is the board's newest card now.

    Returns the older cards that still carry `Weiter ▶` (marked as not carrying it any more:
    the caller removes the button from them).
    """
    assert card.id is not None
    older = session.exec(
        select(Card, CardFace)
        .join(CardFace, col(CardFace.card_id) == col(Card.id))
        .where(CardFace.board_id == card.board_id, col(CardFace.newest).is_(True))
    ).all()
    stale: list[tuple[Card, CardFace]] = []
    for old_card, face in older:
        face.newest = False
        if face.with_next:
            face.with_next = False
            stale.append((old_card, face))
    session.add(
        CardFace(card_id=card.id, board_id=card.board_id, point=card.point, ist=ist, soll=soll)
    )
    return stale


def card_faces(session: Session, *, board_id: int) -> list[tuple[Card, CardFace]]:
    """Every card of a board with what its buttons show."""
    return list(
        session.exec(
            select(Card, CardFace)
            .join(CardFace, col(CardFace.card_id) == col(Card.id))
            .where(CardFace.board_id == board_id)
            .order_by(col(Card.id))
        ).all()
    )


def newest_card(session: Session, *, board_id: int) -> Card | None:
    """The board's most recently posted card."""
    return session.exec(
        select(Card).where(Card.board_id == board_id).order_by(col(Card.id).desc())
    ).first()


def add_prompt(
    session: Session,
    *,
    board_id: int,
    point: int,
    kind: Kind,
    person_id: int,
    chat_id: int,
    message_id: int,
) -> Prompt:
    """Remember a ForceReply question, so a reply to it becomes an entry (also after a restart)."""
    prompt = Prompt(
        board_id=board_id,
        point=point,
        kind=kind.value,
        person_id=person_id,
        chat_id=chat_id,
        message_id=message_id,
    )
    session.add(prompt)
    return prompt


def prompt_by_message(session: Session, *, chat_id: int, message_id: int) -> Prompt | None:
    """The prompt that is message `message_id` of this chat, if it is one."""
    return session.exec(
        select(Prompt).where(Prompt.chat_id == chat_id, Prompt.message_id == message_id)
    ).first()


def recent_prompt(
    session: Session, *, board_id: int, point: int, kind: Kind, person_id: int, since: datetime
) -> Prompt | None:
    """The same question asked of the same person since `since` (a double tap)."""
    return session.exec(
        select(Prompt)
        .where(
            Prompt.board_id == board_id,
            Prompt.point == point,
            Prompt.kind == kind.value,
            Prompt.person_id == person_id,
            col(Prompt.created_at) >= since,
        )
        .order_by(col(Prompt.id).desc())
    ).first()


def progress_of(session: Session, *, board_id: int) -> ProgressMessage | None:
    return session.get(ProgressMessage, board_id)


def needs_progress_message(session: Session, *, board_id: int) -> bool:
    """True if the board has no status message yet (the caller posts one)."""
    row = session.get(ProgressMessage, board_id)
    if row is None:
        session.add(ProgressMessage(board_id=board_id))
        return True
    return row.message_id is None


def set_progress_message(session: Session, *, board_id: int, message_id: int, shown: str) -> None:
    """The status message Telegram returned, and a digest of what it shows."""
    row = session.get(ProgressMessage, board_id)
    if row is None:
        row = ProgressMessage(board_id=board_id)
        session.add(row)
    row.message_id = message_id
    row.shown = shown


def forget_progress_message(session: Session, *, board_id: int, message_id: int) -> None:
    """The status message is gone (deleted, or no longer editable): the next area posts anew."""
    row = session.get(ProgressMessage, board_id)
    if row is not None and row.message_id == message_id:
        row.message_id = None
        row.shown = ""


_PROGRESS_TIMES = select(_PROGRESS.c.due_at, _PROGRESS.c.edited_at).where(
    _PROGRESS.c.board_id == bindparam("board_id")
)
_PROGRESS_DUE = (
    _PROGRESS.update()
    .where(_PROGRESS.c.board_id == bindparam("changed_board"))
    .values(due_at=bindparam("due"))
)


def mark_progress(
    session: Session, *, board_id: int, now: datetime, looked: Looked | None = None
) -> None:
    """The board changed: its status message and cards are due for an edit, a minute after the
    last one at the earliest. (On every entry: one read by key — or none, given what the
    caller's query found — and a write only when the due time moves earlier: in a burst the
    edit is due already.)"""
    connection = session.connection()
    if looked is not None:
        row = looked.progress
    else:
        found = connection.execute(_PROGRESS_TIMES, {"board_id": board_id}).first()
        row = None if found is None else (found[0], found[1])
    if row is None:
        session.add(ProgressMessage(board_id=board_id, due_at=now))
        session.flush()
        return
    due_at, edited_at = row
    due = now if edited_at is None else max(now, edited_at + PROGRESS_EVERY)
    if due_at is None or due_at > due:
        connection.execute(_PROGRESS_DUE, {"changed_board": board_id, "due": due})


def due_progress(session: Session, *, now: datetime, limit: int) -> list[ProgressMessage]:
    """Boards whose edits are due, oldest first, through the index on `due_at`; rows locked by
    another process are skipped (PostgreSQL)."""
    statement = (
        select(ProgressMessage)
        .where(col(ProgressMessage.due_at) <= now)
        .order_by(col(ProgressMessage.due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(statement).all())


def claim_progress(session: Session, *, board_id: int, due_at: datetime, now: datetime) -> bool:
    """Take a due edit, only if it is still due at `due_at`: True for the one process that wins."""
    result = session.execute(
        update(ProgressMessage)
        .where(col(ProgressMessage.board_id) == board_id, col(ProgressMessage.due_at) == due_at)
        .values(due_at=None, edited_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_face(session: Session, *, face: CardFace, ist: int, soll: int, with_next: bool) -> None:
    face.ist, face.soll, face.with_next = ist, soll, with_next
    session.add(face)


def ask_close(session: Session, *, board_id: int, fingerprint: str) -> CloseQuestion:
    """Remember a `/close` question; the board's state is kept to notice a stale answer."""
    question = CloseQuestion(board_id=board_id, fingerprint=fingerprint)
    session.add(question)
    session.flush()
    return question


def close_question(session: Session, *, question_id: int) -> CloseQuestion | None:
    return session.get(CloseQuestion, question_id)


def settle_close_questions(session: Session, *, board_id: int) -> None:
    """Every open `/close` question of the board is answered or out of date now."""
    session.execute(
        update(CloseQuestion)
        .where(col(CloseQuestion.board_id) == board_id, col(CloseQuestion.settled).is_(False))
        .values(settled=True)
    )


def set_progress_shown(session: Session, *, row: ProgressMessage, shown: str) -> None:
    """Remember what the status message shows now (an edit that changes nothing is skipped)."""
    row.shown = shown
    session.add(row)


def settle_close_question(session: Session, *, question: CloseQuestion) -> None:
    """This `/close` question is answered."""
    question.settled = True
    session.add(question)


WELCOME_QUIET = timedelta(days=1)


def claim_welcome(session: Session, *, chat_id: int, now: datetime) -> bool:
    """True if the bot should greet this group now (not greeted within a day), remembering it."""
    row = session.get(WelcomeSent, chat_id)
    if row is None:
        session.add(WelcomeSent(chat_id=chat_id, sent_at=now))
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return False
        return True
    if now - row.sent_at < WELCOME_QUIET:
        return False
    row.sent_at = now
    return True


def move_welcome(session: Session, *, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: it was greeted under its old id."""
    old = session.get(WelcomeSent, old_chat_id)
    if old is not None and session.get(WelcomeSent, new_chat_id) is None:
        session.add(WelcomeSent(chat_id=new_chat_id, sent_at=old.sent_at))


@board_eraser("interaction")
def erase_board_interaction(session: Session, board_id: int) -> int:
    """Card faces, prompts, the status message record and `/close` questions of a board."""
    removed = 0
    for table in (CardFace, Prompt, ProgressMessage, CloseQuestion):
        result = session.execute(_delete(table).where(col(table.board_id) == board_id))
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed


@person_eraser("interaction")
def erase_person_prompts(session: Session, person_id: int) -> dict[int, int]:
    """The questions the bot asked this person (they name the person's id)."""
    prompts = session.exec(select(Prompt).where(Prompt.person_id == person_id)).all()
    removed: dict[int, int] = {}
    for prompt in prompts:
        removed[prompt.board_id] = removed.get(prompt.board_id, 0) + 1
        session.delete(prompt)
    return removed


# ---- the plan (SPEC §10) -----------------------------------------------------------------------
# Measures follow the board's live Soll entries: `sync_measures` makes one for each new Soll
# entry and marks those whose entry was undone, edited into an Ist entry or erased as gone
# (kept, so their numbers are never given again). A measure's text and point are its entry's.

from collections.abc import Mapping  # noqa: E402
from datetime import date  # noqa: E402

from sqlalchemy import delete as _delete_rows  # noqa: E402

from bot.model.plan import MeasureView, Owner, Status  # noqa: E402
from bot.store.erasure import board_eraser, person_eraser  # noqa: E402
from bot.store.tables import Measure  # noqa: E402


def sync_measures(session: Session, *, board: Board, proposed_steps: Mapping[int, int]) -> int:
    """Bring the board's measures in line with its live Soll entries; how many rows changed.

    A new measure gets the next number of the board (never one given before) and the action
    step the model proposes for its point (`proposed_steps`, point → step).
    """
    assert board.id is not None
    live = session.exec(
        select(Entry.id, Entry.point)
        .where(
            Entry.board_id == board.id,
            Entry.kind == Kind.SOLL.value,
            col(Entry.removed_at).is_(None),
        )
        .order_by(col(Entry.created_at), col(Entry.id))
    ).all()
    live_ids = {entry_id for entry_id, _ in live}
    measures = session.exec(select(Measure).where(Measure.board_id == board.id)).all()
    by_entry = {m.entry_id: m for m in measures if m.entry_id is not None}
    now = utcnow()
    changed = 0
    for measure in measures:
        alive = measure.entry_id is not None and measure.entry_id in live_ids
        if alive == (measure.gone_at is None):
            continue
        measure.gone_at = None if alive else now
        measure.updated_at = now
        changed += 1
    number = max((m.number for m in measures), default=0)
    for entry_id, point in live:
        if entry_id in by_entry:
            continue
        number += 1
        session.add(
            Measure(
                board_id=board.id,
                entry_id=entry_id,
                number=number,
                step=proposed_steps.get(point),
                status=Status.OPEN.value,
                created_at=now,
                updated_at=now,
            )
        )
        changed += 1
    if changed:
        session.flush()
    return changed


def _owner_of(measure: Measure) -> Owner | None:
    if not measure.owner_name and not measure.owner_username:
        return None
    return Owner(measure.owner_name, measure.owner_username, measure.owner_id)


def _measure_view(measure: Measure, entry: Entry) -> MeasureView:
    return MeasureView(
        number=measure.number,
        point=entry.point,
        text=entry.text,
        step=measure.step,
        owner=_owner_of(measure),
        due=measure.due_on,
        status=Status(measure.status),
    )


def plan_measures(session: Session, *, board: Board) -> list[MeasureView]:
    """The board's live measures in number order: as last synchronised, less those whose Soll
    entry was undone or edited into an Ist since (the digest reads without synchronising)."""
    assert board.id is not None
    rows = session.exec(
        select(Measure, Entry)
        .join(Entry, col(Entry.id) == col(Measure.entry_id))
        .where(
            Measure.board_id == board.id,
            col(Measure.gone_at).is_(None),
            col(Entry.removed_at).is_(None),
            Entry.kind == Kind.SOLL.value,
        )
        .order_by(col(Measure.number))
    ).all()
    return [_measure_view(measure, entry) for measure, entry in rows]


def measure_by_number(session: Session, *, board: Board, number: int) -> Measure | None:
    """A live measure of the board by its number."""
    return session.exec(
        select(Measure).where(
            Measure.board_id == board.id,
            Measure.number == number,
            col(Measure.gone_at).is_(None),
        )
    ).first()


def measure_view(session: Session, *, measure: Measure) -> MeasureView:
    """A live measure with its entry's text and point."""
    entry = session.get(Entry, measure.entry_id)
    assert entry is not None
    return _measure_view(measure, entry)


def forget_owner_username(session: Session, *, username: str) -> dict[int, int]:
    """Measures whose owner was given as this @username lose their owner (an owner named by
    username has no person id to find them by); counts per board."""
    counts: dict[int, int] = {}
    owned = session.exec(
        select(Measure).where(func.lower(Measure.owner_username) == username.casefold())
    ).all()
    for measure in owned:
        set_measure_owner(session, measure=measure, owner=None)
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    return counts


def set_measure_owner(session: Session, *, measure: Measure, owner: Owner | None) -> None:
    """Give the measure an owner (None: nobody)."""
    measure.owner_name = owner.name if owner else None
    measure.owner_username = owner.username if owner else None
    measure.owner_id = owner.person_id if owner else None
    measure.updated_at = utcnow()
    session.add(measure)


def set_measure_due(session: Session, *, measure: Measure, due: date | None) -> None:
    measure.due_on = due
    measure.updated_at = utcnow()
    session.add(measure)


def set_measure_step(session: Session, *, measure: Measure, step: int | None) -> None:
    measure.step = step
    measure.updated_at = utcnow()
    session.add(measure)


def set_measure_status(session: Session, *, measure: Measure, status: Status) -> None:
    measure.status = status.value
    measure.updated_at = utcnow()
    session.add(measure)


def member_named(session: Session, *, chat_id: int, name: str) -> int | None:
    """The id of the one member of the group the bot knows by this name (any case), if one."""
    wanted = name.casefold()
    found = [
        m.person_id
        for m in session.exec(select(GroupMember).where(GroupMember.chat_id == chat_id)).all()
        if m.name.casefold() == wanted
    ]
    return found[0] if len(found) == 1 else None


def measures_due_between(
    session: Session, *, first: date, last: date
) -> list[tuple[Board, MeasureView]]:
    """Live measures not done, due from `first` to `last` (inclusive), on any board; by the
    index on `due_on`. For the day-before follow-up."""
    rows = session.exec(
        select(Measure, Entry, Board)
        .join(Entry, col(Entry.id) == col(Measure.entry_id))
        .join(Board, col(Board.id) == col(Measure.board_id))
        .where(
            col(Measure.due_on) >= first,
            col(Measure.due_on) <= last,
            col(Measure.gone_at).is_(None),
            Measure.status != Status.DONE.value,
            col(Entry.removed_at).is_(None),
            Entry.kind == Kind.SOLL.value,
        )
        .order_by(col(Measure.board_id), col(Measure.number))
    ).all()
    return [(board, _measure_view(measure, entry)) for measure, entry, board in rows]


def is_claimed(session: Session, *, board_id: int, kind: str, due_at: datetime) -> bool:
    """Whether the post of `kind` due at `due_at` was claimed already (a cheap look first)."""
    return (
        session.exec(
            select(ReminderSent.id).where(
                ReminderSent.board_id == board_id,
                ReminderSent.kind == kind,
                ReminderSent.due_at == due_at,
            )
        ).first()
        is not None
    )


@board_eraser("plan")
def erase_board_measures(session: Session, board_id: int) -> int:
    """Delete every measure of a board (before the board goes)."""
    result = session.execute(_delete_rows(Measure).where(col(Measure.board_id) == board_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


@person_eraser("plan")
def forget_measure_owner(session: Session, person_id: int) -> dict[int, int]:
    """Measures this person owns lose their owner; measures made from their entries are gone
    (their rows stay, without the entry, so the numbers are not given again)."""
    counts: dict[int, int] = {}
    owned = session.exec(select(Measure).where(Measure.owner_id == person_id)).all()
    for measure in owned:
        set_measure_owner(session, measure=measure, owner=None)
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    authored = session.exec(
        select(Measure)
        .join(Entry, col(Entry.id) == col(Measure.entry_id))
        .where(Entry.author_id == person_id)
    ).all()
    now = utcnow()
    for measure in authored:
        measure.entry_id = None
        measure.gone_at = measure.gone_at or now
        measure.updated_at = now
        counts[measure.board_id] = counts.get(measure.board_id, 0) + 1
    session.flush()
    return counts
