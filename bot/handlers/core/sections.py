"""Lines that features add to shared messages: `/status` and the weekly digest.

A feature (autopilot, plan, …) registers a function that reads what it needs in the
message's unit of work and returns its lines; the message's owner calls them in the order
declared below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.model.catalogue import ModelText
from bot.registry import Registry
from bot.store.tables import Board
from bot.texts import Html, Messages

Section = Callable[[Session, Board, Messages, ModelText, datetime], list[Html]]
# each message's sections, in the order of their lines
STATUS_SECTIONS: Registry[Section] = Registry(
    "status section", order=("plan", "autopilot", "votes")
)
DIGEST_SECTIONS: Registry[Section] = Registry("digest section", order=("plan", "votes"))
PLAN_DIGEST_SECTIONS: Registry[Section] = Registry("plan digest section", order=("votes",))


def status_section(name: str) -> Callable[[Section], Section]:
    """Register lines for `/status` (e.g. the pace, the plan's counts)."""
    return STATUS_SECTIONS.register(name)


def digest_section(name: str) -> Callable[[Section], Section]:
    """Register lines for the weekly digest (e.g. measures due in the coming week)."""
    return DIGEST_SECTIONS.register(name)


def plan_digest_section(name: str) -> Callable[[Section], Section]:
    """Register lines for the plan-only digest of a complete board (SPEC §7), too."""
    return PLAN_DIGEST_SECTIONS.register(name)


def lines_of(
    sections: Registry[Section],
    session: Session,
    board: Board,
    messages: Messages,
    model: ModelText,
    now: datetime,
) -> list[Html]:
    """Every registered section's lines, in the sections' order."""
    return [
        line
        for section in sections.values()
        for line in section(session, board, messages, model, now)
    ]
