"""Opening the database: SQLite files private to their owner, bad paths in one sentence,
passwords with `%` escapes handed to Alembic without being rendered."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.playground.emulator.model import TOKEN
from bot.store.db import (
    DatabaseOpenError,
    alembic_config,
    make_engine,
    normalise_url,
    open_database,
)

REPO = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_file_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    engine = open_database(normalise_url(f"sqlite:///{database}"))
    try:
        with engine.connect() as connection:  # WAL and shm exist while a connection is open
            connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
            wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
            assert wal.exists()
            assert shm.exists()
            assert _mode(wal) == 0o600
            assert _mode(shm) == 0o600
        assert _mode(database) == 0o600
    finally:
        engine.dispose()


def test_a_world_readable_sqlite_file_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.sqlite3"
    database.touch()
    database.chmod(0o644)
    make_engine(normalise_url(f"sqlite:///{database}")).dispose()
    assert _mode(database) == 0o600


def test_sqlite_path_that_is_a_folder_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DatabaseOpenError) as caught:
        make_engine(normalise_url(f"sqlite:///{tmp_path}"))
    assert str(caught.value) == (
        f"DATABASE_URL names {tmp_path}, which is a folder, not an SQLite database file."
    )


def test_sqlite_folder_that_cannot_be_created_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseOpenError) as caught:
        make_engine(normalise_url(f"sqlite:///{blocker}/sub/bot.sqlite3"))
    message = str(caught.value)
    assert message.startswith(f"the folder {blocker}/sub for the SQLite database cannot be created")
    assert "\n" not in message


def test_alembic_gets_the_engine_not_a_url_with_the_password() -> None:
    # `%40` in a password broke ConfigParser interpolation and put the URL into the error
    url = normalise_url("postgresql://bot:Qz7%40pw%25x@127.0.0.1:1/sechscluster")
    engine = make_engine(url)
    try:
        config = alembic_config(engine)
        assert config.attributes["engine"] is engine
        assert config.get_main_option("sqlalchemy.url") is None
        assert config.get_main_option("script_location")
    finally:
        engine.dispose()


def test_unreachable_database_is_one_sentence_without_the_password() -> None:
    with pytest.raises(DatabaseOpenError) as caught:
        open_database(normalise_url("postgresql://bot:Qz7%40pw%25x@127.0.0.1:1/sechscluster"))
    message = str(caught.value)
    assert message.startswith("the database could not be opened or migrated (")
    assert "\n" not in message
    assert "Qz7" not in message


def _run_bot(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "LOG_", "HEALTH_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env={
            **env,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(REPO),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("where", ["folder", "below-a-file"])
def test_python_m_bot_with_a_bad_sqlite_path_stops_with_one_sentence(
    where: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path if where == "folder" else tmp_path / "a-file" / "bot.sqlite3"
    result = _run_bot(f"sqlite:///{path}", tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Cannot start: ")
    assert str(path if where == "folder" else path.parent) in lines[0]
