"""Tapping instead of typing (SPEC §4a): card faces (the counts and `Weiter ▶` on a card's
buttons), ForceReply prompts, the live status message of a board, `/close` questions and the
one welcome per group."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.model.entry_text import Kind
from bot.store.cards import Looked
from bot.store.erasure import board_eraser, person_eraser
from bot.store.tables import Card, CardFace, CloseQuestion, ProgressMessage, Prompt, WelcomeSent

# a board's status message and cards are edited at most this often
PROGRESS_EVERY = timedelta(minutes=1)


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


def set_face(session: Session, *, face: CardFace, ist: int, soll: int, with_next: bool) -> None:
    face.ist, face.soll, face.with_next = ist, soll, with_next
    session.add(face)


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


def set_progress_shown(session: Session, *, row: ProgressMessage, shown: str) -> None:
    """Remember what the status message shows now (an edit that changes nothing is skipped)."""
    row.shown = shown
    session.add(row)


def forget_progress_message(session: Session, *, board_id: int, message_id: int) -> None:
    """The status message is gone (deleted, or no longer editable): the next area posts anew."""
    row = session.get(ProgressMessage, board_id)
    if row is not None and row.message_id == message_id:
        row.message_id = None
        row.shown = ""


_PROGRESS = ProgressMessage.__table__  # type: ignore[attr-defined]
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
        result = session.execute(delete(table).where(col(table.board_id) == board_id))
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
