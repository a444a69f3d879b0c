"""Engine creation from an ordinary database URL, and the schema upgrade on start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

MIGRATIONS_DIR = Path(str(files("bot.store") / "migrations"))


class DatabaseUrlError(ValueError):
    """A DATABASE_URL that names no database the bot can use."""


def normalise_url(raw: str) -> URL:
    """Turn `sqlite:///…`, `postgres://…` or `postgresql://…` into a URL with the bot's driver."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise DatabaseUrlError("is not a database URL") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise DatabaseUrlError("names an SQLite driver the bot does not ship")
        if not url.database or url.database == ":memory:":
            raise DatabaseUrlError("needs a file path, e.g. sqlite:///data/bot.sqlite3")
        return url.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        if not url.database:
            raise DatabaseUrlError("needs a database name, e.g. postgresql://user@host/dbname")
        return url.set(drivername="postgresql+psycopg")
    raise DatabaseUrlError(f"uses '{url.drivername}'; only sqlite:/// and postgresql:// work")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(url: URL) -> Engine:
    """An engine for this URL; SQLite in WAL mode with a busy timeout for several processes."""
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15}, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates through this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision."""
    command.upgrade(alembic_config(engine), "heads")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One session for one unit of work; the caller commits, anything unfinished rolls back."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
