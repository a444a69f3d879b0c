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

# person id → how many rows were removed or anonymised, per board id (0 = not board-bound)
PersonEraser = Callable[[Session, int], dict[int, int]]
# board id → how many rows were removed
BoardEraser = Callable[[Session, int], int]

NOT_BOARD_BOUND = 0  # the key of rows that belong to no board (memberships, chats, updates)

# the session's info key: this unit of work erased something (bot/store/scrubbing.py then
# checkpoints SQLite's write-ahead log after the commit)
ERASED = "erased"

PERSON_ORDER = (
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
)
BOARD_ORDER = (
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
)

PERSON_ERASERS: dict[str, PersonEraser] = {}
BOARD_ERASERS: dict[str, BoardEraser] = {}


def person_eraser(name: str) -> Callable[[PersonEraser], PersonEraser]:
    """Register how a feature forgets one person (rows deleted, names removed); `name` has its
    place in PERSON_ORDER."""

    def register(function: PersonEraser) -> PersonEraser:
        if name not in PERSON_ORDER:
            raise ValueError(f"person eraser {name!r} has no place in PERSON_ORDER")
        if name in PERSON_ERASERS:
            raise ValueError(f"person eraser {name!r} registered twice")
        PERSON_ERASERS[name] = function
        return function

    return register


def board_eraser(name: str) -> Callable[[BoardEraser], BoardEraser]:
    """Register how a feature deletes what belongs to one board (before the board row goes);
    `name` has its place in BOARD_ORDER."""

    def register(function: BoardEraser) -> BoardEraser:
        if name not in BOARD_ORDER:
            raise ValueError(f"board eraser {name!r} has no place in BOARD_ORDER")
        if name in BOARD_ERASERS:
            raise ValueError(f"board eraser {name!r} registered twice")
        BOARD_ERASERS[name] = function
        return function

    return register


def erase_person(session: Session, person_id: int) -> dict[str, dict[int, int]]:
    """Run every person eraser, in order, in the caller's unit of work; the caller commits (then
    SQLite's write-ahead log is checkpointed, bot/store/scrubbing.py)."""
    session.info[ERASED] = True
    return {name: PERSON_ERASERS[name](session, person_id) for name in PERSON_ORDER}


def erase_board(session: Session, board_id: int) -> dict[str, int]:
    """Run every board eraser, in order, in the caller's unit of work; the caller deletes the
    board row and commits (then SQLite's write-ahead log is checkpointed,
    bot/store/scrubbing.py)."""
    session.info[ERASED] = True
    return {name: BOARD_ERASERS[name](session, board_id) for name in BOARD_ORDER}
