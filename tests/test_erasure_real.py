"""Erasure is real (issue 25): after /forgetme and /deleteboard the erased text is in neither
the SQLite file nor its `-wal` file, the chat's stored updates are emptied, and a plan owner
typed as the forgotten person's name is gone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.world import Chat, StoredMessage, World
from bot.store import boards as board_store
from bot.store.db import make_engine, normalise_url, session_scope, upgrade_schema
from bot.store.erasure import erase_board
from bot.store.tables import Board, Entry, InboxUpdate, Measure
from tests.inprocess import InProcessBot, inprocess_bot

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def last(world: World, chat: Chat) -> StoredMessage:
    return world.bot_messages(chat)[-1]


def stored_bytes(tmp_path: Path) -> bytes:
    """Everything SQLite keeps on disk for the in-process bot: the file and its -wal."""
    database = tmp_path / "inprocess.sqlite3"
    found = database.read_bytes()
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        found += wal.read_bytes()
    return found


def settings_of(bot: InProcessBot) -> tuple[int, str]:
    with bot.engine.connect() as connection:
        secure = connection.exec_driver_sql("PRAGMA secure_delete").scalar_one()
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    return int(secure), str(mode)


async def test_forgetme_leaves_no_copy_in_the_file_or_the_wal(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2541, "Anna")
    dave = world.person(2542, "Dave")
    dave.last_name = "Miller"
    group = world.group("Team", owner=anna)
    secret = "Zebrastreifen-Geheimnis-4711"
    async with inprocess_bot(emulator, tmp_path) as bot:
        assert settings_of(bot) == (1, "wal")
        world.send(group, anna, "/newboard Citybike")
        world.send(group, anna, "/soll 2 Kundenumfrage starten")
        for number in range(1, 4):
            world.send(group, dave, f"/ist {number} {secret} {number}")
        await bot.deliver()
        world.send(group, anna, "/measure 1 owner Dave Miller")
        await bot.deliver()
        with Session(bot.engine) as session:
            assert session.exec(select(Measure.owner_name)).all() == ["Dave Miller"]
        assert secret.encode() in stored_bytes(tmp_path)

        world.send(group, dave, "/forgetme")
        await bot.deliver()
        world.press_label(group, dave, last(world, group), "Löschen")
        await bot.deliver()

        with Session(bot.engine) as session:
            assert session.exec(select(Measure.owner_name)).all() == [None]
        assert secret.encode() not in stored_bytes(tmp_path)
        assert world.refusals() == []


async def test_deleteboard_leaves_no_copy_and_empties_the_chat_s_stored_updates(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2551, "Anna")
    ben = world.person(2552, "Ben")
    group = world.group("Team", owner=anna)
    title, secret = "Tarnkappe-Projekt-0815", "Geheime-Preisliste-0815"
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, f"/newboard {title}")
        for number in range(1, 6):
            world.send(group, ben, f"/ist {number} {secret} {number}")
        await bot.deliver()
        stored = stored_bytes(tmp_path)
        assert title.encode() in stored
        assert secret.encode() in stored

        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        world.press_label(group, anna, last(world, group), "Löschen")
        await bot.deliver()

        stored = stored_bytes(tmp_path)
        assert secret.encode() not in stored
        assert title.encode() not in stored
        with Session(bot.engine) as session:
            rows = session.exec(select(InboxUpdate).where(InboxUpdate.chat_id == group.id)).all()
        assert rows  # kept (a redelivery is still recognised), but without their text
        for row in rows:
            assert json.loads(row.payload) == {"update_id": row.update_id}
        assert world.refusals() == []


def test_an_erasure_outside_a_handler_checkpoints_too(tmp_path: Path) -> None:
    """Retention erases in its own unit of work: the commit checkpoints and truncates the log
    (bot/store/scrubbing.py registers the hook)."""
    database = tmp_path / "inprocess.sqlite3"
    engine = make_engine(normalise_url(f"sqlite:///{database}"))
    upgrade_schema(engine)
    secret = "Alte-Geschichte-1999"
    try:
        with session_scope(engine) as session:
            board = Board(chat_id=-100, title="Alt", language="de", created_by=1, timezone="UTC")
            session.add(board)
            session.flush()
            assert board.id is not None
            session.add(
                Entry(
                    board_id=board.id,
                    point=1,
                    kind="ist",
                    text=secret,
                    author_id=1,
                    author_name="Anna",
                    chat_id=-100,
                    message_id=1,
                )
            )
            session.commit()
            board_id = board.id
        assert secret.encode() in stored_bytes(tmp_path)
        with session_scope(engine) as session:
            erase_board(session, board_id)
            assert board_store.delete_board_row(session, board_id=board_id)
            session.commit()
        assert secret.encode() not in stored_bytes(tmp_path)
        assert database.with_name(database.name + "-wal").stat().st_size == 0
    finally:
        engine.dispose()
