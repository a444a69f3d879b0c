"""The autopilot in-process with a controlled clock: `/pace`, cards on the due times across DST,
catch-up, restarts, two applications on PostgreSQL, and the boards it must leave alone."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot import clock
from bot.handlers import autopilot
from bot.playground.emulator import BotApiEmulator, Chat, Person, World
from bot.store import boards as board_store
from bot.store.tables import Board, ReminderSent
from tests.inprocess import InProcessBot, inprocess_bot
from tests.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
_CARD = re.compile(r"^<b>(\d+)\. [^<]*</b> · ")


def _utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def cards(world: World, group: Chat) -> list[int]:
    """The points of the cards the bot posted in the group, in order."""
    found = [_CARD.match(text) for text in world.bot_texts(group)]
    return [int(match.group(1)) for match in found if match]


def board_of(bot: InProcessBot) -> Board:
    with Session(bot.engine) as session:
        board = session.exec(select(Board)).one()
        session.expunge(board)
        return board


def outcomes(bot: InProcessBot) -> list[str]:
    with Session(bot.engine) as session:
        rows = session.exec(
            select(ReminderSent)
            .where(ReminderSent.kind == "autopilot")
            .order_by(ReminderSent.due_at)  # type: ignore[arg-type]
        ).all()
        return [row.outcome for row in rows]


class Clock:
    """The bot's clock, set by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
        self.moment = start
        monkeypatch.setattr(clock, "now", self)

    def __call__(self) -> datetime:
        return self.moment


async def _say(bot: InProcessBot, group: Chat, person: Person, text: str) -> str:
    bot.world.send(group, person, text)
    await bot.deliver()
    return plain(bot.world.bot_texts(group)[-1])


async def _sweep(bot: InProcessBot, now: datetime) -> int:
    return await autopilot.sweep(bot.context, now)


@pytest.fixture
def scene(emulator: BotApiEmulator) -> tuple[World, Person, Chat]:
    world = emulator.world
    anna = world.person(101, "Anna")
    group = world.group("Team", owner=anna)
    return world, anna, group


async def test_pace_across_the_spring_change(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    Clock(monkeypatch, _utc(2026, 3, 27, 10, 0))  # Friday
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Frühling")
        answer = await _say(bot, group, anna, "/pace täglich 09:00")
        assert "täglich um 09:00 (Europe/Berlin)" in answer
        assert "Samstag, 28. März 2026, 09:00 (Europe/Berlin)" in answer
        assert await _sweep(bot, _utc(2026, 3, 28, 7, 59)) == 0
        assert await _sweep(bot, _utc(2026, 3, 28, 8, 0)) == 1  # 09:00 CET
        assert await _sweep(bot, _utc(2026, 3, 28, 8, 1)) == 0
        assert await _sweep(bot, _utc(2026, 3, 29, 6, 59)) == 0
        assert await _sweep(bot, _utc(2026, 3, 29, 7, 0)) == 1  # 09:00 CEST, an hour earlier in UTC
        assert await _sweep(bot, _utc(2026, 3, 29, 8, 0)) == 0
        assert cards(world, group) == [1, 2]
        assert any("Weiter mit Bereich 1: Kunde" in plain(t) for t in world.bot_texts(group))
        assert board_of(bot).next_pace_at == _utc(2026, 3, 30, 7, 0)
        assert outcomes(bot) == ["sent", "sent"]


async def test_pace_across_the_autumn_change(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    Clock(monkeypatch, _utc(2026, 10, 23, 10, 0))  # Friday
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Herbst")
        await _say(bot, group, anna, "/pace sa,so 09:00")
        assert await _sweep(bot, _utc(2026, 10, 24, 7, 0)) == 1  # 09:00 CEST
        assert await _sweep(bot, _utc(2026, 10, 25, 7, 0)) == 0  # 08:00 CET: not yet
        assert await _sweep(bot, _utc(2026, 10, 25, 8, 0)) == 1  # 09:00 CET
        assert cards(world, group) == [1, 2]
        assert board_of(bot).next_pace_at == _utc(2026, 10, 31, 8, 0)


async def test_bad_pace_gets_a_short_answer_and_changes_nothing(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    ben = world.person(102, "Ben")
    Clock(monkeypatch, _utc(2026, 11, 23, 6, 0))
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Eingaben")
        await _say(bot, group, anna, "/pace mo,mi,fr 08:30")
        before = board_of(bot)
        expected = {
            "/pace": "So geht’s: /pace Tage HH:MM",
            "/pace 09:00": "So geht’s: /pace Tage HH:MM",
            "/pace mo-fr": "So geht’s: /pace Tage HH:MM",
            "/pace xx 09:00": "Die Tage „xx“ verstehe ich nicht",
            "/pace mo- 09:00": "Die Tage „mo-“ verstehe ich nicht",
            "/pace mo-fr 24:00": "Die Uhrzeit „24:00“ gibt es nicht",
            "/pace mo-fr 9": "Die Uhrzeit „9“ gibt es nicht",
            "/pace mo-fr 07:61": "Die Uhrzeit „07:61“ gibt es nicht",
        }
        for command, start in expected.items():
            answer = await _say(bot, group, anna, command)
            assert answer.startswith(start), (command, answer)
            assert len(answer) < 300
        assert "Moderator" in await _say(bot, group, ben, "/pace täglich 09:00")
        after = board_of(bot)
        assert (after.pace_days, after.pace_time, after.next_pace_at) == (
            before.pace_days,
            before.pace_time,
            before.next_pace_at,
        )
        assert before.pace_time == "08:30"
        assert before.pace_days == 0b10101
        assert "Der Autopilot ist aus" in await _say(bot, group, anna, "/pace off")
        assert board_of(bot).next_pace_at is None
        assert await _sweep(bot, _utc(2026, 11, 23, 8, 0)) == 0


async def test_status_shows_pace_next_card_and_next_digest(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    _world, anna, group = scene
    Clock(monkeypatch, _utc(2026, 11, 24, 10, 0))  # Tuesday
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Stand")
        assert "Autopilot: aus" in await _say(bot, group, anna, "/status")
        await _say(bot, group, anna, "/pace mo-fr 09:00")
        status = await _say(bot, group, anna, "/status")
        assert (
            "Autopilot: Mo–Fr um 09:00 (Europe/Berlin) · nächste Karte: "
            "Mittwoch, 25. November 2026, 09:00 (Europe/Berlin)" in status
        )
        assert "Nächste Erinnerung: Montag, 30. November 2026, 09:00" in status
        await _say(bot, group, anna, "/timezone America/New_York")
        assert board_of(bot).next_pace_at == _utc(2026, 11, 24, 14, 0)  # 09:00 in New York


async def test_next_by_a_moderator_does_not_make_it_skip_twice(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    now = Clock(monkeypatch, _utc(2026, 11, 23, 6, 0))  # Monday 07:00 in Berlin
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Tempo")
        await _say(bot, group, anna, "/pace mo-fr 09:00")
        await _say(bot, group, anna, "/area 1")
        now.moment = _utc(2026, 11, 23, 7, 30)
        await _say(bot, group, anna, "/next")  # the moderator moves on before the autopilot
        assert await _sweep(bot, _utc(2026, 11, 23, 8, 0)) == 1
        assert cards(world, group) == [1, 2, 3]
        await _say(bot, group, anna, "/ist 4 schon erledigt")
        before = len(world.bot_texts(group))
        assert await _sweep(bot, _utc(2026, 11, 24, 8, 0)) == 1
        assert cards(world, group) == [1, 2, 3, 5]  # 4 is filled: on to area 2, and it says so
        new = [plain(t) for t in world.bot_texts(group)[before:]]
        assert new[0].startswith("🤖 Weiter mit Bereich 2: Differenzierung")


async def test_catch_up_once_and_never_two_cards_within_twelve_hours(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    Clock(monkeypatch, _utc(2026, 3, 27, 10, 0))
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Nachholen")
        await _say(bot, group, anna, "/pace täglich 09:00")
        # down from Saturday morning to 20:30: 11.5 hours late, caught up once
        assert await _sweep(bot, _utc(2026, 3, 28, 19, 30)) == 1
        assert await _sweep(bot, _utc(2026, 3, 28, 19, 31)) == 0
        # Sunday 09:00 CEST is 11.5 hours later: no second card so soon
        assert await _sweep(bot, _utc(2026, 3, 29, 7, 0)) == 0
        assert await _sweep(bot, _utc(2026, 3, 30, 7, 0)) == 1
        # down from Monday to Wednesday 08:00: Tuesday's time is 23 hours late, not caught up
        assert await _sweep(bot, _utc(2026, 4, 1, 6, 0)) == 0
        assert await _sweep(bot, _utc(2026, 4, 1, 7, 0)) == 1
        assert cards(world, group) == [1, 2, 3]
        assert outcomes(bot) == ["sent", "sent", "skipped_late", "sent"]


async def test_complete_closed_and_removed_boards_get_no_card(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    Clock(monkeypatch, _utc(2026, 11, 23, 6, 0))
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Ruhe")
        await _say(bot, group, anna, "/pace täglich 09:00")
        # the group removes the bot: no card; when it is added again, the pace resumes
        world.remove_bot(group, anna)
        await bot.deliver()
        assert await _sweep(bot, _utc(2026, 11, 23, 8, 0)) == 0
        world.add_bot(group, anna)
        await bot.deliver()
        assert await _sweep(bot, _utc(2026, 11, 24, 8, 0)) == 1
        assert cards(world, group) == [1]
        # a closed board: nothing
        with Session(bot.engine) as session:
            board = session.exec(select(Board)).one()
            board_store.close_board(session, board=board)
            session.commit()
        assert await _sweep(bot, _utc(2026, 11, 25, 8, 0)) == 0
        with Session(bot.engine) as session:
            board = session.exec(select(Board)).one()
            board_store.reopen_board(session, board=board)
            session.commit()
        # a complete board: nothing
        for point in range(1, 21):
            world.send(group, anna, f"/ist {point} erledigt")
        await bot.deliver()
        assert await _sweep(bot, _utc(2026, 11, 26, 8, 0)) == 0
        assert "keine Karte, solange das Board vollständig ist" in await _say(
            bot, group, anna, "/status"
        )
        assert cards(world, group) == [1]
        assert outcomes(bot) == [
            "skipped_inactive",
            "sent",
            "skipped_closed",
            "skipped_complete",
        ]


async def test_a_restart_just_before_the_due_time_posts_exactly_one_card(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    Clock(monkeypatch, _utc(2026, 11, 23, 6, 0))
    async with inprocess_bot(emulator, tmp_path) as first:
        await _say(first, group, anna, "/newboard Neustart")
        await _say(first, group, anna, "/pace mo-fr 09:00")
        assert await _sweep(first, _utc(2026, 11, 23, 7, 59, 30)) == 0
    async with inprocess_bot(emulator, tmp_path) as second:  # the same database file
        due = _utc(2026, 11, 23, 8, 0)
        sent = await asyncio.gather(_sweep(second, due), _sweep(second, due + timedelta(seconds=5)))
        assert sum(sent) == 1
        assert await _sweep(second, due + timedelta(minutes=1)) == 0
    async with inprocess_bot(emulator, tmp_path) as third:
        assert await _sweep(third, _utc(2026, 11, 23, 9, 0)) == 0
        assert await _sweep(third, _utc(2026, 11, 24, 8, 0)) == 1
    assert cards(world, group) == [1, 2]


@pytest.mark.postgres
async def test_two_applications_on_postgresql_post_one_card_per_due_time(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
    postgres_url: str,
) -> None:
    world, anna, group = scene
    Clock(monkeypatch, _utc(2026, 11, 23, 6, 0))
    async with (
        inprocess_bot(emulator, tmp_path / "a", database_url=postgres_url) as one,
        inprocess_bot(emulator, tmp_path / "b", database_url=postgres_url) as two,
    ):
        await _say(one, group, anna, "/newboard Zwei")
        await _say(two, group, anna, "/pace täglich 09:00")  # each application took a command
        for day in range(23, 28):
            due = _utc(2026, 11, day, 8, 0)
            sent = await asyncio.gather(
                _sweep(one, due), _sweep(two, due), _sweep(one, due), _sweep(two, due)
            )
            assert sum(sent) == 1, day
        assert cards(world, group) == [1, 2, 3, 4, 5]
        assert outcomes(one) == ["sent"] * 5


async def test_the_autopilot_opening_an_area_brings_the_status_message(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scene: tuple[World, Person, Chat],
) -> None:
    world, anna, group = scene
    group.bot_admin = True  # with the right to pin
    Clock(monkeypatch, _utc(2026, 11, 23, 6, 0))
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _say(bot, group, anna, "/newboard Von selbst")
        await _say(bot, group, anna, "/pace täglich 09:00")
        assert world.pinned.get(group.id, []) == []
        assert await _sweep(bot, _utc(2026, 11, 23, 8, 0)) == 1  # area 1 opens by itself
        assert cards(world, group) == [1]
        assert len(world.pinned.get(group.id, [])) == 1  # one status message, pinned
