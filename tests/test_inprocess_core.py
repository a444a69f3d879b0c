"""The core handlers, in-process: a board opened, cards posted, entries stored, refusals."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.playground.emulator import BotApiEmulator
from bot.store import chats as chat_store
from bot.store import inbox as inbox_store
from bot.store import interaction as interaction_store
from bot.store.tables import Board, Entry, GroupMember
from tests.inprocess import InProcessBot, inprocess_bot
from tests.scenario import plain


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_board_cards_entries_and_refusals(
    emulator: BotApiEmulator, tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    world = emulator.world
    anna = world.person(101, "Anna")
    ben = world.person(102, "Ben")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path, database_url=url) as bot:
        world.send(group, anna, "/newboard Citybike")
        world.send(group, anna, "/point 3")
        world.send(group, ben, "/point 4")  # not a moderator
        await bot.deliver()
        texts = [plain(t) for t in world.bot_texts(group)]
        assert "Citybike" in texts[0]
        assert texts[1].startswith("3. Sticky Information")
        assert "Moderator" in texts[2]
        card = world.bot_messages(group)[1]
        reply = world.send(group, ben, "Soll: Maße einmal erfassen", reply_to=card.message_id)
        world.send(group, ben, "/ist 3 Maße werden jedes Mal neu genommen")
        await bot.deliver()
        assert reply.reactions == ["👍"]
        with Session(bot.engine) as session:
            stored = session.exec(select(Entry).order_by(Entry.id)).all()  # type: ignore[arg-type]
        assert [(e.point, e.kind, e.text, e.author_name) for e in stored] == [
            (3, "soll", "Maße einmal erfassen", "Ben"),
            (3, "ist", "Maße werden jedes Mal neu genommen", "Ben"),
        ]


async def test_a_redelivered_command_posts_nothing_twice(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(201, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Einmal")
        await bot.deliver()
        world.send(group, anna, "/point 1")
        await bot.deliver()
        before = len(world.bot_messages(group))
        bot.redeliver(bot.delivered[-1])
        assert await bot.deliver() == 0
        assert len(world.bot_messages(group)) == before


def _entries_and_due(bot: InProcessBot, board_id: int) -> tuple[list[Entry], datetime | None]:
    """The stored entries and when the board's status message is next due for an edit."""
    with Session(bot.engine) as session:
        ordered = select(Entry).order_by(Entry.id)  # type: ignore[arg-type]
        entries = list(session.exec(ordered).all())
        progress = interaction_store.progress_of(session, board_id=board_id)
    assert progress is not None
    return entries, progress.due_at


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_reply_sent_again_under_a_new_update_id_makes_no_second_entry(
    emulator: BotApiEmulator, tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """The card's query also finds the message's earlier entry and the status message's times
    (one query for a reply): a second delivery is a duplicate, and the edit stays due."""
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    world = emulator.world
    anna = world.person(211, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path, database_url=url) as bot:
        world.send(group, anna, "/newboard Zweimal")
        world.send(group, anna, "/point 2")
        await bot.deliver()
        card = world.bot_messages(group)[-1]
        reply = world.send(group, anna, "Ist: einmal gesagt", reply_to=card.message_id)
        await bot.deliver()
        with Session(bot.engine) as session:
            board_id = session.exec(select(Board)).one().id
        assert board_id is not None
        _, due = _entries_and_due(bot, board_id)
        assert due is not None
        again = dict(bot.delivered[-1], update_id=bot.delivered[-1]["update_id"] + 1000)
        bot.redeliver(again)
        assert await bot.deliver() == 1
        stored, due_after = _entries_and_due(bot, board_id)
        assert [(e.point, e.kind, e.text, e.message_id) for e in stored] == [
            (2, "ist", "einmal gesagt", reply.message_id)
        ]
        assert due_after == due  # a duplicate changes nothing
        with Session(bot.engine) as session:
            # found as a duplicate before inserting: nothing rolled back, its claim stands
            row = inbox_store.inbox_update(session, update_id=again["update_id"])
            assert row is not None
            assert row.outcome == inbox_store.UPDATE_HANDLED
        world.send(group, anna, "Soll: noch eins", reply_to=card.message_id)
        await bot.deliver()
        stored, due_after = _entries_and_due(bot, board_id)
        assert len(stored) == 2
        assert due_after is not None
        assert due_after <= due + interaction_store.PROGRESS_EVERY


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_a_refused_message_still_brings_a_group_marked_gone_back(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """The refusal rolls back the unit of work, the presence it wrote included: written again,
    and only then remembered (else the group would stay "gone" for its reminders)."""
    world = emulator.world
    anna = world.person(301, "Anna")
    ben = world.person(302, "Ben")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Zurück")
        await bot.deliver()
        with Session(bot.engine) as session:
            chat_store.set_chat_active(session, chat_id=group.id, active=False)
            session.commit()
        bot.context.bot_data.active_chats.forget(group.id)  # as after the cache's ten minutes
        world.send(group, ben, "/ist")  # refused inside the handler: no text
        await bot.deliver()
        assert "/ist" in plain(world.bot_texts(group)[-1])
        with Session(bot.engine) as session:
            assert chat_store.chat_is_active(session, group.id)
            assert session.get(GroupMember, (group.id, ben.id)) is not None


async def test_remind_takes_the_same_off_words_as_pace(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(401, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Ruhig")
        world.send(group, anna, "/remind stopp")
        await bot.deliver()
        assert "Erinnerung ist aus" in plain(world.bot_texts(group)[-1])
        with Session(bot.engine) as session:
            board = session.exec(select(Board)).one()
        assert board.remind_weekday is None


async def test_a_command_entry_edited_into_plain_text_keeps_its_point(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(501, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Bearbeitet")
        first = world.send(group, anna, "/ist 5 Entwurf")
        await bot.deliver()
        answers = len(world.bot_messages(group))
        world.edit(group, first, "Kunden gestalten mit")  # the command word deleted
        await bot.deliver()
        with Session(bot.engine) as session:
            stored = session.exec(select(Entry)).all()
        assert [(e.point, e.kind, e.text) for e in stored] == [(5, "ist", "Kunden gestalten mit")]
        assert len(world.bot_messages(group)) == answers  # no "not a card" answer
