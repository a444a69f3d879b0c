"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import SQLModel

from bot.store import tables  # noqa: F401  (the tables on SQLModel.metadata)
from bot.store.db import alembic_config


def test_one_head(engine: Engine) -> None:
    assert len(ScriptDirectory.from_config(alembic_config(engine)).get_heads()) == 1


def test_the_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
