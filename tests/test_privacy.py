"""Privacy (SPEC §11), in-process: /privacy, /forgetme, /deleteboard and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Integer, String, Text, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot import clock
from bot.handlers import privacy, retention
from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.world import Chat, Person, StoredMessage, World
from bot.render.split import MESSAGE_LIMIT, telegram_length
from bot.store import boards as board_store
from bot.store.db import open_database
from bot.store.tables import Board, Entry, Measure
from bot.texts import load_texts
from tests.inprocess import InProcessBot, inprocess_bot
from tests.scenario import plain

CARLA = 7_700_000_123  # beyond 32 bits, and unlike any other number in the tests
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'privacy.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


def last(world: World, chat: Chat) -> StoredMessage:
    return world.bot_messages(chat)[-1]


def entries(engine: Engine) -> list[tuple[int, int, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Entry.board_id, Entry.author_id, Entry.text)).all()
    return sorted((board, author, body) for board, author, body in rows)


def rows_naming(engine: Engine, person_id: int, name: str) -> list[str]:
    """Every row of every table with the person's id in a number column, or the id or the
    name in a text column (the inbox's payloads included)."""
    found: list[str] = []
    inspector = inspect(engine)
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            columns = inspector.get_columns(table)
            numbers = [c["name"] for c in columns if isinstance(c["type"], Integer)]
            texts = [c["name"] for c in columns if isinstance(c["type"], String | Text)]
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column in numbers:
                    if row[column] == person_id:
                        found.append(f"{table}.{column}")
                for column in texts:
                    value = str(row[column] or "")
                    if str(person_id) in value or name in value:
                        found.append(f"{table}.{column}: {value[:80]}")
    return found


async def two_teams(bot: InProcessBot, world: World) -> tuple[Chat, Chat, Person, Person]:
    """Two groups with a board each; Carla writes in both, others too."""
    anna = world.person(301, "Anna")
    ben = world.person(302, "Ben")
    carla = world.person(CARLA, "Carla")
    dora = world.person(304, "Dora")
    north = world.group("Nord GmbH", owner=anna)
    south = world.group("Süd AG", owner=ben)
    world.send(north, anna, "/newboard Citybike")
    world.send(south, ben, "/newboard Lastenrad")
    await bot.deliver()
    for group in (north, south):
        world.send(group, carla, "/ist 1 Kunden bestellen per Telefon")
        world.send(group, carla, "/soll 2 Online konfigurieren")
        world.send(group, dora, "/ist 1 Maße werden im Laden genommen")
    world.send(north, anna, "/ist 3 Wir kennen die Stammkunden")
    await bot.deliver()
    return north, south, carla, dora


async def test_forgetme_removes_exactly_the_persons_data(
    emulator: BotApiEmulator, tmp_path: Path, database_url: str
) -> None:
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path, database_url) as bot:
        north, south, carla, dora = await two_teams(bot, world)
        before = entries(bot.engine)
        assert sum(1 for _, author, _ in before if author == CARLA) == 4
        # a measure of Anna's given to Carla by her @username (no person id known for it)
        carla.username = "Carla_K"
        anna = world.people[301]
        world.send(north, anna, "/soll 4 Lieferzeiten nennen")
        world.send(north, anna, "/measure 2 owner @carla_k")
        await bot.deliver()
        assert "@carla_k" in plain(world.bot_texts(north)[-1]).casefold()
        before = entries(bot.engine)
        world.send(north, carla, "/forgetme")
        await bot.deliver()
        question = last(world, north)
        assert "nicht rückgängig" in plain(question.text or "")

        query = world.press_label(north, dora, question, "Löschen")  # not hers to confirm
        await bot.deliver()
        answer = world.answer_of(query)
        assert answer is not None
        assert answer["show_alert"]
        assert "/forgetme" in answer["text"]
        assert entries(bot.engine) == before

        query = world.press_label(north, carla, question, "Löschen")
        await bot.deliver()
        answer = world.answer_of(query)
        assert answer is not None
        assert not answer["show_alert"]
        after = entries(bot.engine)
        assert after == [row for row in before if row[1] != CARLA]
        report = plain(world.bot_messages(north)[-1].text or "")
        assert "Citybike (Nord GmbH): Einträge: 2" in report
        # the other group's board is counted, not named, in this group
        assert "In anderen Gruppen – Boards: 1, Einträge und weitere Angaben: 2" in report
        assert "Süd AG" not in report
        assert "Lastenrad" not in report
        assert question.reply_markup is None  # the question became the answer
        assert rows_naming(bot.engine, CARLA, "Carla") == []
        with Session(bot.engine) as session:  # and the owner given by her @username
            owners = session.exec(select(Measure.owner_username)).all()
        assert "carla_k" not in [(owner or "").casefold() for owner in owners]
        # the others keep what they wrote, and the boards their state
        assert {author for _, author, _ in after} == {301, dora.id}
        del south


async def test_forgetme_in_a_private_chat_and_cancel(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path) as bot:
        _, _, carla, _ = await two_teams(bot, world)
        private = world.private(carla)
        world.send(private, carla, "/forgetme")
        await bot.deliver()
        world.press_label(private, carla, last(world, private), "Abbrechen")
        await bot.deliver()
        assert "nichts gelöscht" in plain(last(world, private).text or "")
        assert sum(1 for _, author, _ in entries(bot.engine) if author == CARLA) == 4

        world.send(private, carla, "/forgetme")
        await bot.deliver()
        world.press_label(private, carla, last(world, private), "Löschen")
        await bot.deliver()
        assert sum(1 for _, author, _ in entries(bot.engine) if author == CARLA) == 0
        assert rows_naming(bot.engine, CARLA, "Carla") == []


async def test_forgetting_a_complete_boards_author_makes_it_incomplete_quietly(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(311, "Anna")
    carla = world.person(CARLA, "Carla")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Voll")
        await bot.deliver()
        for number in range(1, 20):
            world.send(group, anna, f"/ist {number} Punkt {number}")
        world.send(group, carla, "/ist 20 Der letzte Punkt")
        await bot.deliver()
        with Session(bot.engine) as session:
            assert session.exec(select(Board.completed_at)).one() is not None
        world.send(group, carla, "/forgetme")
        await bot.deliver()
        posts = len(world.bot_messages(group))
        world.press_label(group, carla, last(world, group), "Löschen")
        await bot.deliver()
        with Session(bot.engine) as session:
            assert session.exec(select(Board.completed_at)).one() is None
        assert len(world.bot_messages(group)) == posts  # the question edited, nothing posted


async def test_privacy_says_what_is_stored_in_both_languages(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    german = world.person(321, "Gerd", "de")
    english = world.person(322, "Emma", "en")
    async with inprocess_bot(emulator, tmp_path, retention_days=200) as bot:
        world.send(world.private(german), german, "/privacy")
        world.send(world.private(english), english, "/privacy")
        await bot.deliver()
        de = plain(last(world, world.private(german)).text or "")
        en = plain(last(world, world.private(english)).text or "")
        assert "200 Tage" in de
        assert "/forgetme /deleteboard" in " ".join(w for w in de.split() if w.startswith("/"))
        assert "200 days" in en
        assert "Telegram id" in en


def board_rows(engine: Engine, board_id: int) -> dict[str, int]:
    """How many rows of each table belong to the board (by a `board_id` column, or its id)."""
    counts: dict[str, int] = {}
    inspector = inspect(engine)
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            columns = {c["name"] for c in inspector.get_columns(table)}
            column = "id" if table == "board" else "board_id" if "board_id" in columns else None
            if column is None:
                continue
            counts[table] = connection.execute(
                text(f'SELECT COUNT(*) FROM "{table}" WHERE {column} = :board'), {"board": board_id}
            ).scalar_one()
    return counts


async def test_deleteboard_asks_keeps_on_cancel_and_deletes_everything(
    emulator: BotApiEmulator, tmp_path: Path, database_url: str
) -> None:
    world = emulator.world
    anna = world.person(331, "Anna")
    ben = world.person(332, "Ben")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path, database_url) as bot:
        world.send(group, anna, "/newboard Citybike")
        world.send(group, anna, "/point 1")
        await bot.deliver()
        world.send(group, ben, "/ist 1 Telefon")
        world.send(group, ben, "/soll 1 Online")
        world.send(group, ben, "/deleteboard")  # not a moderator
        await bot.deliver()
        assert "Moderator" in plain(last(world, group).text or "")
        with Session(bot.engine) as session:
            board_id = session.exec(select(Board.id)).one()
        assert board_id is not None
        kept = board_rows(bot.engine, board_id)
        assert (kept["board"], kept["entry"], kept["card"]) == (1, 2, 1)

        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        first = last(world, group)
        assert "2 Einträgen" in plain(first.text or "")
        query = world.press_label(group, ben, first, "Löschen")
        await bot.deliver()
        answer = world.answer_of(query)
        assert answer is not None
        assert answer["show_alert"]
        world.press_label(group, anna, first, "Abbrechen")
        await bot.deliver()
        assert "bleibt" in plain(first.text or "")
        # only the answered question is new; it goes with the board
        assert board_rows(bot.engine, board_id) == {**kept, "confirmation": 1}

        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        second = last(world, group)
        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        third = last(world, group)
        world.press_label(group, ben, second, "exportieren")  # anyone may take the files
        await bot.deliver()
        documents = [m.file_name for m in world.bot_messages(group) if m.kind == "document"]
        assert any(name and name.endswith(".json") for name in documents)
        world.press_label(group, anna, second, "Löschen")
        await bot.deliver()
        assert "gelöscht" in plain(second.text or "")
        assert set(board_rows(bot.engine, board_id).values()) == {0}

        query = world.press_label(group, anna, third, "Abbrechen")  # an old button
        await bot.deliver()
        answer = world.answer_of(query)
        assert answer == {"text": "Dieses Board gibt es nicht mehr.", "show_alert": True}
        assert world.refusals() == []


async def closed_board(
    bot: InProcessBot, world: World, group: Chat, owner: Person, title: str, closed_at: datetime
) -> int:
    world.send(group, owner, f"/newboard {title}")
    world.send(group, owner, "/ist 1 Etwas")
    await bot.deliver()
    with Session(bot.engine) as session:
        board = session.exec(select(Board).where(Board.title == title)).one()
        board.status = "closed"  # as /close leaves it (the confirming tap is not this test's)
        board.closed_at = closed_at
        session.commit()
        assert board.id is not None
        return board.id


async def test_retention_tells_once_and_deletes_after_a_week(
    emulator: BotApiEmulator, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(341, "Anna")
    old_group = world.group("Alt", owner=anna)
    young_group = world.group("Jung", owner=anna)
    late_group = world.group("Spät", owner=anna)
    now = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    week = timedelta(days=7)
    async with inprocess_bot(emulator, tmp_path, database_url) as bot:
        old = await closed_board(bot, world, old_group, anna, "Alt", now - timedelta(days=366))
        young = await closed_board(bot, world, young_group, anna, "Jung", now - timedelta(days=300))
        posts = {g.id: len(world.bot_messages(g)) for g in (old_group, young_group, late_group)}
        context: Any = bot.context
        monkeypatch.setattr(clock, "now", lambda: now - week)

        # a week before: the old board's group is told, once
        assert await retention.sweep(context, now - week) == 1
        assert await retention.sweep(context, now - week + timedelta(hours=1)) == 0
        notice = last(world, old_group)
        assert len(world.bot_messages(old_group)) == posts[old_group.id] + 1
        assert "/reopen" in (notice.text or "")
        assert "365 Tage" in plain(notice.text or "")
        assert len(world.bot_messages(young_group)) == posts[young_group.id]
        # the notice was an outbox row, stored with the claim (SPEC §12)
        with bot.engine.connect() as connection:
            stored = connection.execute(
                text("select outcome from outbox_send where chat_id = :chat and update_id is null"),
                {"chat": old_group.id},
            ).all()
        assert [tuple(row) for row in stored] == [("sent",)]

        # a board closed more than a year ago without a notice yet: told now, deleted a week later
        late = await closed_board(bot, world, late_group, anna, "Spät", now - timedelta(days=400))

        await retention.sweep(context, now)
        assert set(board_rows(bot.engine, old).values()) == {0}
        assert board_rows(bot.engine, young)["board"] == 1
        assert board_rows(bot.engine, late)["board"] == 1
        assert "/export" in (last(world, late_group).text or "")
        assert len(world.bot_messages(old_group)) == posts[old_group.id] + 1  # no second notice

        await retention.sweep(context, now + week)
        assert set(board_rows(bot.engine, late).values()) == {0}
        assert board_rows(bot.engine, young)["board"] == 1


def test_the_forget_report_of_many_boards_stays_one_message(tmp_path: Path) -> None:
    engine = open_database(make_url(f"sqlite:///{tmp_path / 'many.sqlite3'}"))
    messages = load_texts()["de"]
    with Session(engine) as session:
        ids = []
        for number in range(60):
            board = board_store.create_board(
                session,
                chat_id=-1000 - number,
                thread_id=0,
                title=f"{number:02d} " + "&" * 117,  # 120 characters, escaped 5 times as long
                language="de",
                created_by=CARLA,
                timezone="Europe/Berlin",
                next_reminder_at=None,
            )
            assert board.id is not None
            ids.append(board.id)
        session.commit()
        report = privacy._forget_report(
            session, messages, {"entries": dict.fromkeys(ids, 3)}, here=None
        )
    assert telegram_length(report) <= MESSAGE_LIMIT
    assert "00 &amp;" in report
    assert "… und" in plain(report)
