"""Engine creation from an ordinary database URL, and the schema upgrade on start."""

from __future__ import annotations

import contextlib
import os
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
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

MIGRATIONS_DIR = Path(str(files("bot.store") / "migrations"))


class DatabaseUrlError(ValueError):
    """A DATABASE_URL that names no database the bot can use."""


class DatabaseOpenError(Exception):
    """The database cannot be opened or migrated; the message is one sentence for an operator."""


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


BUSY_TIMEOUT_MS = 15000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # deleted text is overwritten, not left in free pages (SPEC §11, /forgetme and /deleteboard)
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _prepare_sqlite_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by its owner only, or say why not.

    SQLite gives the -wal and -shm files the permissions of the database file, so they are
    0600 as well.
    """
    if path.is_dir():
        raise DatabaseOpenError(
            f"DATABASE_URL names {path}, which is a folder, not an SQLite database file."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseOpenError(
            f"the folder {path.parent} for the SQLite database cannot be created "
            f"({exc.strerror or exc})."
        ) from exc
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as exc:
        raise DatabaseOpenError(
            f"the SQLite database {path} cannot be opened ({exc.strerror or exc})."
        ) from exc
    # also a file an older version created world-readable (if it is ours to change)
    with contextlib.suppress(PermissionError):
        os.chmod(path, 0o600)


SQLITE_POOL = 4
POSTGRES_POOL = 8


def make_engine(url: URL) -> Engine:
    """An engine for this URL; SQLite in WAL mode with a busy timeout for several processes.

    Raises DatabaseOpenError for an SQLite path that cannot be a database file.
    """
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        _prepare_sqlite_file(Path(url.database).expanduser().resolve())
        # connections are kept open (pooled): opening and closing one per unit of work cost
        # more than the work itself (benchmarks/burst.py); sessions run in worker threads
        engine = create_engine(
            url,
            connect_args={"timeout": 15, "check_same_thread": False},
            poolclass=QueuePool,
            pool_size=SQLITE_POOL,
            max_overflow=SQLITE_POOL,
            # the connection used last comes first: its page cache is the warm one
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POSTGRES_POOL, max_overflow=5)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates through this engine.

    The engine is handed over as an object, never as a rendered URL: Alembic's ConfigParser
    would read a `%` in the password (`p%40ss`) as interpolation, and the URL would carry the
    password into its error messages.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision."""
    command.upgrade(alembic_config(engine), "heads")


def _reason(error: BaseException) -> str:
    """The first line of what the driver said (without SQLAlchemy's wrapping and links)."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]


def open_database(url: URL) -> Engine:
    """An engine on a database migrated to the newest schema, or DatabaseOpenError.

    The error says in one sentence what went wrong; the password is not part of it.
    """
    engine = make_engine(url)
    try:
        upgrade_schema(engine)
    except Exception as exc:  # unreachable, refused, read-only, broken: one sentence, no traceback
        engine.dispose()
        raise DatabaseOpenError(
            f"the database could not be opened or migrated ({_reason(exc)})."
        ) from exc
    return engine


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
