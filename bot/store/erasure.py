"""Deleting data for real (SPEC §11): every module that stores rows registers how to delete
what belongs to one person or to one board, so `/forgetme`, `/deleteboard` and retention
reach every table — also tables added later.

The erasers run in the order named below: rows that point at a board's cards and entries (card
faces, prompts, measures, votes …) go before them, and a person's measures lose their entries
before the entries go. bot/store/__init__.py imports every module that registers one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.registry import Registry

# person id → how many rows were removed or anonymised, per board id (0 = not board-bound)
PersonEraser = Callable[[Session, int], dict[int, int]]
# board id → how many rows were removed
BoardEraser = Callable[[Session, int], int]

NOT_BOARD_BOUND = 0  # the key of rows that belong to no board (memberships, chats, updates)

# the session's info key: this unit of work erased something (bot/store/scrubbing.py then
# checkpoints SQLite's write-ahead log after the commit)
ERASED = "erased"

PERSON_ERASERS: Registry[PersonEraser] = Registry(
    "person eraser",
    order=(
        "interaction",
        "plan",
        "outbox",
        "votes",
        "confirmations",
        "entries",
        "chats",
        "boards",
        "outputs",
        "inbox",
        "dead_letters",
    ),
)
BOARD_ERASERS: Registry[BoardEraser] = Registry(
    "board eraser",
    order=(
        "interaction",
        "plan",
        "outbox",
        "votes",
        "miniapp_links",
        "confirmations",
        "inbox",
        "cards",
        "entries",
        "schedules",
        "outputs",
        "dead_letters",
    ),
)


def person_eraser(name: str) -> Callable[[PersonEraser], PersonEraser]:
    """Register how a feature forgets one person (rows deleted, names removed); `name` has its
    place in PERSON_ERASERS' order."""
    return PERSON_ERASERS.register(name)


def board_eraser(name: str) -> Callable[[BoardEraser], BoardEraser]:
    """Register how a feature deletes what belongs to one board (before the board row goes);
    `name` has its place in BOARD_ERASERS' order."""
    return BOARD_ERASERS.register(name)


def erase_person(session: Session, person_id: int) -> dict[str, dict[int, int]]:
    """Run every person eraser, in order, in the caller's unit of work; the caller commits (then
    SQLite's write-ahead log is checkpointed, bot/store/scrubbing.py)."""
    PERSON_ERASERS.check_complete()
    session.info[ERASED] = True
    return {name: erase(session, person_id) for name, erase in PERSON_ERASERS.items()}


def erase_board(session: Session, board_id: int) -> dict[str, int]:
    """Run every board eraser, in order, in the caller's unit of work; the caller deletes the
    board row and commits (then SQLite's write-ahead log is checkpointed,
    bot/store/scrubbing.py)."""
    BOARD_ERASERS.check_complete()
    session.info[ERASED] = True
    return {name: erase(session, board_id) for name, erase in BOARD_ERASERS.items()}
