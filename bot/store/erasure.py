"""Deleting data for real (SPEC §11): every feature that stores rows registers how to delete
what belongs to one person or to one board, so `/forgetme`, `/deleteboard` and retention
reach every table — also tables added later.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

# person id → how many rows were removed or anonymised, per board id (0 = not board-bound)
PersonEraser = Callable[[Session, int], dict[int, int]]
# board id → how many rows were removed
BoardEraser = Callable[[Session, int], int]

# the session's info key: this unit of work erased something (bot/store/scrubbing.py then
# checkpoints SQLite's write-ahead log after the commit)
ERASED = "erased"

PERSON_ERASERS: dict[str, PersonEraser] = {}
BOARD_ERASERS: dict[str, BoardEraser] = {}


def person_eraser(name: str) -> Callable[[PersonEraser], PersonEraser]:
    """Register how a feature forgets one person (rows deleted, names removed)."""

    def register(function: PersonEraser) -> PersonEraser:
        if name in PERSON_ERASERS:
            raise ValueError(f"person eraser {name!r} registered twice")
        PERSON_ERASERS[name] = function
        return function

    return register


def board_eraser(name: str) -> Callable[[BoardEraser], BoardEraser]:
    """Register how a feature deletes what belongs to one board (before the board row goes)."""

    def register(function: BoardEraser) -> BoardEraser:
        if name in BOARD_ERASERS:
            raise ValueError(f"board eraser {name!r} registered twice")
        BOARD_ERASERS[name] = function
        return function

    return register


def erase_person(session: Session, person_id: int) -> dict[str, dict[int, int]]:
    """Run every person eraser in the caller's unit of work; the caller commits (then SQLite's
    write-ahead log is checkpointed, bot/store/scrubbing.py)."""
    session.info[ERASED] = True
    return {name: eraser(session, person_id) for name, eraser in PERSON_ERASERS.items()}


def erase_board(session: Session, board_id: int) -> dict[str, int]:
    """Run every board eraser in the caller's unit of work; the caller deletes the board row
    and commits (then SQLite's write-ahead log is checkpointed, bot/store/scrubbing.py)."""
    session.info[ERASED] = True
    return {name: eraser(session, board_id) for name, eraser in BOARD_ERASERS.items()}
