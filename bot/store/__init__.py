"""Persistence: SQLModel tables, one module of queries per aggregate (each takes a session; the
caller commits), Alembic migrations.

Every module that stores rows registers its erasers (bot/store/erasure.py) when imported; they
are all imported here, so `/forgetme`, `/deleteboard` and retention reach every table whichever
store module was imported first. scrubbing checkpoints SQLite's log after an erasure.
"""

from bot.store import (  # noqa: F401  (their erasers and the checkpoint hook register on import)
    boards,
    cards,
    chats,
    confirmations,
    deadletters,
    entries,
    inbox,
    interaction,
    links,
    outbox,
    outputs,
    plan,
    schedules,
    scrubbing,
    votes,
)
