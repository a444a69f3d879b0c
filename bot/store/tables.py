"""SQLModel tables. Every Telegram id is 64-bit; every time is stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot import clock


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC (SQLite keeps no zone, so it is re-attached)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC (the bot's clock, which tests can set)."""
    return clock.now().astimezone(UTC)


def _big(**kwargs: object) -> Column[int]:
    return Column(BigInteger, **kwargs)  # type: ignore[arg-type]


def _time(**kwargs: object) -> Column[datetime]:
    return Column(UtcDateTime(), **kwargs)  # type: ignore[arg-type]


class GroupChat(SQLModel, table=True):
    """A chat the bot works in; inactive while the bot is not a member."""

    __tablename__ = "group_chat"

    chat_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    is_forum: bool = Field(default=False)
    active: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))


class Board(SQLModel, table=True):
    """One run of the model for one product or topic in one chat (and forum topic)."""

    __tablename__ = "board"
    __table_args__ = (
        Index(
            "uq_board_open_per_topic",
            "chat_id",
            "thread_id",
            unique=True,
            sqlite_where=Column("status", String) == "open",
            postgresql_where=Column("status", String) == "open",
        ),
        Index("ix_board_next_reminder", "next_reminder_at"),
        Index("ix_board_next_pace", "next_pace_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    chat_id: int = Field(sa_column=_big(nullable=False, index=True))
    thread_id: int = Field(default=0, sa_column=_big(nullable=False, default=0))
    title: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False))
    created_by: int = Field(sa_column=_big(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    current_area: int | None = Field(default=None)
    current_point: int | None = Field(default=None)
    completed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    completion_announced_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    remind_weekday: int | None = Field(default=0)
    remind_time: str = Field(default="09:00", sa_column=Column(String(5), nullable=False))
    timezone: str = Field(sa_column=Column(String(64), nullable=False))
    next_reminder_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    # the autopilot (/pace): weekdays as a bitmask (bit 0 = Monday), local HH:MM, next due
    pace_days: int | None = Field(default=None)
    pace_time: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    next_pace_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    last_digest_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class Card(SQLModel, table=True):
    """A message of the bot that presents one topic point; replies to it become entries."""

    __tablename__ = "card"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_card_message"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    board_id: int = Field(foreign_key="board.id", index=True)
    point: int
    chat_id: int = Field(sa_column=_big(nullable=False))
    message_id: int = Field(sa_column=_big(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))


class Entry(SQLModel, table=True):
    """One contribution to a field: Ist or Soll text, author, source message, times."""

    __tablename__ = "entry"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", name="uq_entry_message"),
        Index("ix_entry_board_point", "board_id", "point"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    board_id: int = Field(foreign_key="board.id")
    point: int
    kind: str = Field(sa_column=Column(String(4), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    author_id: int = Field(sa_column=_big(nullable=False))
    author_name: str = Field(sa_column=Column(Text, nullable=False))
    chat_id: int = Field(sa_column=_big(nullable=False))
    message_id: int = Field(sa_column=_big(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    removed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class ReminderSent(SQLModel, table=True):
    """A claimed scheduled post: one row per board, kind and due instant, so none is sent twice.

    Kinds: "reminder" (the weekly digest), and those other schedules register (autopilot …).
    """

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("board_id", "kind", "due_at", name="uq_claim_kind_due"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    board_id: int = Field(foreign_key="board.id")
    kind: str = Field(
        default="reminder",
        sa_column=Column(String(16), nullable=False, server_default="reminder"),
    )
    due_at: datetime = Field(sa_column=_time(nullable=False))
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    outcome: str = Field(default="claimed", sa_column=Column(String(16), nullable=False))


class GroupMember(SQLModel, table=True):
    """Someone the bot has seen in a group (it sees only commands, replies and button presses)."""

    __tablename__ = "group_member"

    chat_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    person_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    quiet: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))


class OutputSent(SQLModel, table=True):
    """The last heavy output (/board, /export) per chat, topic and command, for the cool-down."""

    __tablename__ = "output_sent"

    chat_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    thread_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    command: str = Field(sa_column=Column(String(32), primary_key=True))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    sent_at: datetime = Field(sa_column=_time(nullable=False))


class InboxUpdate(SQLModel, table=True):
    """An update received from Telegram, kept until finished: the durable inbox.

    Stored before it is confirmed to Telegram (polling) or answered (webhook), so a crash loses
    nothing. The handler that writes claims it (`outcome` "handled") in the same transaction as
    its effects, so nothing is done twice; `processed_at` is set once the update is finished
    (its answers sent, or given up). A chat's updates are processed in `update_id` order.
    """

    __tablename__ = "inbox_update"
    __table_args__ = (
        # only unfinished rows: what a chat still has to work through, in order
        Index(
            "ix_inbox_update_unfinished",
            "chat_id",
            "update_id",
            sqlite_where=Column("processed_at", UtcDateTime()).is_(None),
            postgresql_where=Column("processed_at", UtcDateTime()).is_(None),
        ),
    )

    update_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    chat_id: int | None = Field(default=None, sa_column=_big(nullable=True))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    outcome: str = Field(default="", sa_column=Column(String(16), nullable=False, default=""))


class DeadLetter(SQLModel, table=True):
    """An update set aside (SPEC §12): it could not be parsed, or its handling failed three
    times. Kept a week with its error class, so the chat goes on and nothing loops; the inbox
    row is finished ("dead")."""

    __tablename__ = "dead_letter"

    update_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    chat_id: int | None = Field(default=None, sa_column=_big(nullable=True, index=True))
    person_id: int | None = Field(default=None, sa_column=_big(nullable=True, index=True))
    error: str = Field(sa_column=Column(String(120), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    set_aside_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))


class OutboxSend(SQLModel, table=True):
    """A send a unit of work decided (SPEC §12), stored with its effects in one transaction and
    delivered after the commit, in order per chat; `sent_at` once Telegram took it. Rows not
    sent when the process stopped are delivered on the next start (or dropped past 12 hours:
    `outcome` "dropped")."""

    __tablename__ = "outbox_send"
    __table_args__ = (
        Index(
            "ix_outbox_send_unsent",
            "chat_id",
            "id",
            sqlite_where=Column("sent_at", UtcDateTime()).is_(None),
            postgresql_where=Column("sent_at", UtcDateTime()).is_(None),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    chat_id: int = Field(sa_column=_big(nullable=False))
    update_id: int | None = Field(default=None, sa_column=_big(nullable=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    outcome: str = Field(default="", sa_column=Column(String(16), nullable=False, default=""))
    # the process delivering the row, until when (several processes: one sends it; a claim
    # whose process died is taken over after its lease)
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    claimed_until: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class OutboxChat(SQLModel, table=True):
    """Which process sends a chat's outbox rows, until when (several processes on PostgreSQL):
    its holder sends all of them, whoever stored them, in row-id order (bot/store/outbox_chats.py)."""

    __tablename__ = "outbox_chat"

    chat_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    owner: str = Field(sa_column=Column(String(64), nullable=False))
    lease_until: datetime = Field(sa_column=_time(nullable=False))


# ---- privacy (SPEC §11) ------------------------------------------------------------------------
# Retention looks for boards closed long ago on every sweep: by the closing time, through an index.
Index("ix_board_closed_at", Board.__table__.c.closed_at)  # type: ignore[attr-defined]


# ---- tapping instead of typing (SPEC §4a) -------------------------------------------------------
# Rows refer to boards by id and to messages by id within the board's chat, so a chat's
# migration (which moves `board.chat_id`) carries them along.


class CardFace(SQLModel, table=True):
    """What a card's buttons show now: its Ist and Soll counts and whether `Weiter ▶` is on it."""

    __tablename__ = "card_face"

    card_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    board_id: int = Field(foreign_key="board.id", index=True)
    point: int
    ist: int = Field(default=0)
    soll: int = Field(default=0)
    newest: bool = Field(default=True)
    with_next: bool = Field(default=True)


class Prompt(SQLModel, table=True):
    """A question the bot asked one person after a tap on `Ist` or `Soll` (ForceReply);
    a reply to it becomes an entry of its point and kind."""

    __tablename__ = "prompt"
    # a message is identified by its chat and its id there (ids start again at 1 in a
    # supergroup that was a basic group before)
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_prompt_message"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    board_id: int = Field(foreign_key="board.id")
    point: int
    kind: str = Field(sa_column=Column(String(4), nullable=False))
    person_id: int = Field(sa_column=_big(nullable=False))
    chat_id: int = Field(sa_column=_big(nullable=False))
    message_id: int = Field(sa_column=_big(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))


class ProgressMessage(SQLModel, table=True):
    """The one status message of a board, kept up to date by editing it (at most once a minute).

    `due_at` is set when the board changed and the next edit may be made; NULL while nothing
    waits. `shown` is a digest of the text on the message, so an edit never changes nothing.
    """

    __tablename__ = "progress_message"
    __table_args__ = (Index("ix_progress_due", "due_at"),)

    board_id: int = Field(foreign_key="board.id", primary_key=True)
    message_id: int | None = Field(default=None, sa_column=_big(nullable=True))
    shown: str = Field(default="", sa_column=Column(String(64), nullable=False, default=""))
    edited_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    due_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class CloseQuestion(SQLModel, table=True):
    """A `/close` waiting for the moderator's `Schließen` or `Abbrechen`."""

    __tablename__ = "close_question"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    board_id: int = Field(foreign_key="board.id", index=True)
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    asked_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    settled: bool = Field(default=False)


class WelcomeSent(SQLModel, table=True):
    """When the bot last greeted a group it joined (one welcome, not again the same day)."""

    __tablename__ = "welcome_sent"

    chat_id: int = Field(sa_column=_big(primary_key=True, autoincrement=False))
    sent_at: datetime = Field(sa_column=_time(nullable=False))


# ---- the plan (SPEC §10) -----------------------------------------------------------------------


class Measure(SQLModel, table=True):
    """A measure of the plan, made from a live Soll entry (its text and point stay the entry's).

    Numbered per board, never reused: a measure whose entry was undone, edited into an Ist entry
    or erased stays as a row marked `gone_at`, keeping its number.
    """

    __tablename__ = "measure"
    __table_args__ = (
        UniqueConstraint("board_id", "number", name="uq_measure_board_number"),
        Index("ix_measure_due_on", "due_on"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    board_id: int = Field(
        sa_column=Column(Integer, ForeignKey("board.id"), nullable=False, index=True)
    )
    # SET NULL: when a person's entries are erased (/forgetme), the measure stays, gone
    entry_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("entry.id", ondelete="SET NULL"), nullable=True, unique=True
        ),
    )
    number: int = Field(sa_column=Column(Integer, nullable=False))
    step: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    owner_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    owner_username: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    owner_id: int | None = Field(default=None, sa_column=_big(nullable=True, index=True))
    due_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    status: str = Field(default="open", sa_column=Column(String(8), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    gone_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class Confirmation(SQLModel, table=True):
    """A question waiting for a confirming tap (`/deleteboard`, `/forgetme`): what it asked
    about (the board's state, the person), when, and whether it is answered. A tap on an
    answered, expired or out-of-date question changes nothing."""

    __tablename__ = "confirmation"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    chat_id: int = Field(sa_column=_big(nullable=False))
    board_id: int | None = Field(default=None, sa_column=Column(Integer, index=True))
    person_id: int = Field(sa_column=_big(nullable=False, index=True))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    asked_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    settled: bool = Field(default=False)


# ---- the Mini App (SPEC §13) --------------------------------------------------------------------


class BoardLink(SQLModel, table=True):
    """The opaque token that names one board in the Mini App's links (`startapp=<token>`):
    random, unguessable, never the board's number."""

    __tablename__ = "board_link"

    board_id: int = Field(
        sa_column=Column(Integer, ForeignKey("board.id"), primary_key=True, autoincrement=False)
    )
    token: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))


# ---- voting on the plan (SPEC §15) ---------------------------------------------------------------


class Vote(SQLModel, table=True):
    """A vote of a board's team on its open measures: one or more Telegram polls, ended by the
    bot at `ends_at` (or at `/vote stop`); `ended_at` is the claim that ends it once."""

    __tablename__ = "vote"
    __table_args__ = (
        Index(
            "uq_vote_running_per_board",
            "board_id",
            unique=True,
            sqlite_where=Column("ended_at", UtcDateTime()).is_(None),
            postgresql_where=Column("ended_at", UtcDateTime()).is_(None),
        ),
        Index("ix_vote_ends_at", "ends_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    board_id: int = Field(
        sa_column=Column(Integer, ForeignKey("board.id"), nullable=False, index=True)
    )
    started_by: int | None = Field(default=None, sa_column=_big(nullable=True, index=True))
    started_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
    ends_at: datetime = Field(sa_column=_time(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class VotePoll(SQLModel, table=True):
    """One Telegram poll of a vote: the measure numbers of its options, in option order, and
    the poll's id and message once Telegram has it."""

    __tablename__ = "vote_poll"
    __table_args__ = (
        UniqueConstraint("vote_id", "part", name="uq_vote_poll_part"),
        # the sweep looks for polls still to stop: few, among all polls ever sent
        Index(
            "ix_vote_poll_unstopped",
            "vote_id",
            sqlite_where=Column("stopped", Boolean) == False,  # noqa: E712
            postgresql_where=Column("stopped", Boolean) == False,  # noqa: E712
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    vote_id: int = Field(
        sa_column=Column(Integer, ForeignKey("vote.id"), nullable=False, index=True)
    )
    part: int = Field(sa_column=Column(Integer, nullable=False))  # 1-based
    numbers: str = Field(sa_column=Column(Text, nullable=False))  # "3,5,9": option i → measure
    poll_id: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True, unique=True)
    )
    chat_id: int | None = Field(default=None, sa_column=_big(nullable=True))
    message_id: int | None = Field(default=None, sa_column=_big(nullable=True))
    stopped: bool = Field(default=False)


class VoteBallot(SQLModel, table=True):
    """A person's pick in a poll: one row per chosen measure (their whole current choice)."""

    __tablename__ = "vote_ballot"
    __table_args__ = (
        UniqueConstraint("poll_row_id", "person_id", "number", name="uq_vote_ballot_pick"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    poll_row_id: int = Field(
        sa_column=Column(Integer, ForeignKey("vote_poll.id"), nullable=False, index=True)
    )
    person_id: int = Field(sa_column=_big(nullable=False, index=True))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    chosen_at: datetime = Field(default_factory=utcnow, sa_column=_time(nullable=False))
