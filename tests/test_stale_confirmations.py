"""Confirmations carry what they asked about and expire (issue 25): an old `Löschen` under a
`/deleteboard`, `/forgetme` or `/close` question changes nothing and says so."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.model import Chat, StoredMessage
from bot.playground.emulator.world import World
from bot.store.tables import Board, CloseQuestion, Confirmation, Entry
from tests.inprocess import InProcessBot, inprocess_bot
from tests.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def last(world: World, chat: Chat) -> StoredMessage:
    return world.bot_messages(chat)[-1]


def entries(bot: InProcessBot) -> int:
    with Session(bot.engine) as session:
        return session.exec(select(func.count()).select_from(Entry)).one()


def boards(bot: InProcessBot) -> int:
    with Session(bot.engine) as session:
        return session.exec(select(func.count()).select_from(Board)).one()


def age(bot: InProcessBot, minutes: int) -> None:
    """Make every waiting question (of /deleteboard, /forgetme and /close) `minutes` older."""
    with Session(bot.engine) as session:
        rows: list[Confirmation | CloseQuestion] = [
            *session.exec(select(Confirmation)).all(),
            *session.exec(select(CloseQuestion)).all(),
        ]
        for row in rows:
            row.asked_at = row.asked_at - timedelta(minutes=minutes)
            session.add(row)
        session.commit()


async def test_an_old_deleteboard_question_deletes_nothing_after_the_board_changed(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """The attack: the question said "1 entries", six more came, the board was closed and
    reopened, another administrator tapped the old `Löschen`: 7 entries were deleted."""
    world = emulator.world
    anna = world.person(2501, "Anna")
    cleo = world.person(2502, "Cleo")
    ben = world.person(2503, "Ben")
    group = world.group("Team", owner=anna, admins=(cleo,))
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Citybike")
        world.send(group, ben, "/ist 1 Telefon")
        await bot.deliver()
        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        question = last(world, group)
        assert "mit seinem einen Eintrag" in plain(question.text or "")
        for number in range(2, 8):
            world.send(group, ben, f"/ist {number} Eintrag {number}")
        world.send(group, anna, "/close")
        await bot.deliver()
        world.press_label(group, anna, last(world, group), "Schließen")
        await bot.deliver()
        world.send(group, anna, "/reopen")
        await bot.deliver()
        assert entries(bot) == 7
        tap = world.press_label(group, cleo, question, "Löschen")
        await bot.deliver()
        answer = world.answer_of(tap)
        assert answer is not None
        assert answer["show_alert"]
        assert "veraltet" in answer["text"]
        assert (entries(bot), boards(bot)) == (7, 1)
        assert "veraltet" in plain(question.text or "")  # the question says so, its buttons gone
        assert not question.reply_markup
        assert world.refusals() == []


async def test_a_deleteboard_question_goes_stale_on_new_entries_reopen_and_time(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2511, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Citybike")
        world.send(group, anna, "/ist 1 Telefon")
        await bot.deliver()
        # one more entry after the question: stale
        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        first = last(world, group)
        world.send(group, anna, "/ist 2 Noch eins")
        await bot.deliver()
        world.press_label(group, anna, first, "Löschen")
        await bot.deliver()
        assert (entries(bot), boards(bot)) == (2, 1)
        # closed and reopened, nothing else: stale
        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        second = last(world, group)
        world.send(group, anna, "/close")
        await bot.deliver()
        world.press_label(group, anna, last(world, group), "Schließen")
        await bot.deliver()
        world.send(group, anna, "/reopen")
        await bot.deliver()
        world.press_label(group, anna, second, "Löschen")
        await bot.deliver()
        assert boards(bot) == 1
        # eleven minutes old: stale
        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        third = last(world, group)
        age(bot, 11)
        tap = world.press_label(group, anna, third, "Löschen")
        await bot.deliver()
        assert "veraltet" in (world.answer_of(tap) or {}).get("text", "")
        assert boards(bot) == 1
        # a question that still stands deletes
        world.send(group, anna, "/deleteboard")
        await bot.deliver()
        world.press_label(group, anna, last(world, group), "Löschen")
        await bot.deliver()
        assert (entries(bot), boards(bot)) == (0, 0)
        assert world.refusals() == []


async def test_an_old_forgetme_question_forgets_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2521, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Citybike")
        world.send(group, anna, "/ist 1 Telefon")
        world.send(group, anna, "/forgetme")
        await bot.deliver()
        old = last(world, group)
        age(bot, 11)
        tap = world.press_label(group, anna, old, "Löschen")
        await bot.deliver()
        assert "veraltet" in (world.answer_of(tap) or {}).get("text", "")
        assert entries(bot) == 1
        world.send(group, anna, "/forgetme")
        await bot.deliver()
        fresh = last(world, group)
        world.press_label(group, anna, fresh, "Löschen")
        await bot.deliver()
        assert entries(bot) == 0
        with Session(bot.engine) as session:  # the question named the person: gone as well
            assert session.exec(select(Confirmation)).all() == []
        assert world.refusals() == []


async def test_an_old_close_question_closes_nothing_after_ten_minutes(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2531, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Citybike")
        world.send(group, anna, "/close")
        await bot.deliver()
        question = last(world, group)
        age(bot, 11)
        tap = world.press_label(group, anna, question, "Schließen")
        await bot.deliver()
        assert "veraltet" in (world.answer_of(tap) or {}).get("text", "")
        with Session(bot.engine) as session:
            assert session.exec(select(Board.status)).one() == "open"
        assert world.refusals() == []
