"""Lines that features add to shared messages: `/status` and the weekly digest.

A feature (autopilot, plan, …) registers a function that reads what it needs in the
message's unit of work and returns its lines; the message's owner calls them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.model.catalogue import ModelText
from bot.store.tables import Board
from bot.texts import Html, Messages

Section = Callable[[Session, Board, Messages, ModelText, datetime], list[Html]]
STATUS_SECTIONS: dict[str, Section] = {}
DIGEST_SECTIONS: dict[str, Section] = {}
PLAN_DIGEST_SECTIONS: dict[str, Section] = {}


def status_section(name: str) -> Callable[[Section], Section]:
    """Register lines for `/status` (e.g. the pace, the plan's counts)."""
    return _register(STATUS_SECTIONS, name)


def digest_section(name: str) -> Callable[[Section], Section]:
    """Register lines for the weekly digest (e.g. measures due in the coming week)."""
    return _register(DIGEST_SECTIONS, name)


def plan_digest_section(name: str) -> Callable[[Section], Section]:
    """Register lines for the plan-only digest of a complete board (SPEC §7), too."""
    return _register(PLAN_DIGEST_SECTIONS, name)


def _register(into: dict[str, Section], name: str) -> Callable[[Section], Section]:
    def register(function: Section) -> Section:
        if name in into:
            raise ValueError(f"section {name!r} registered twice")
        into[name] = function
        return function

    return register


def lines_of(
    sections: dict[str, Section],
    session: Session,
    board: Board,
    messages: Messages,
    model: ModelText,
    now: datetime,
) -> list[Html]:
    """Every registered section's lines, in registration order."""
    return [
        line
        for section in sections.values()
        for line in section(session, board, messages, model, now)
    ]
