"""Rights follow Telegram at once; heavy outputs cool down; completion is announced once a day;
entries have a length limit; the layers keep their imports (SPEC §8, issues 8 and 13)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot import clock
from bot.handlers.core.failure import Where, language_of
from bot.handlers.entries import ENTRY_LIMIT
from bot.playground.emulator import BotApiEmulator
from bot.store.tables import Entry
from bot.store.unit import UnitOfWork
from tests.support.inprocess import inprocess_bot
from tests.support.scenario import plain

BOT_PACKAGE = Path(__file__).resolve().parents[2] / "bot"


def _texts_since(world: object, group: object, before: int) -> list[str]:
    return [plain(t) for t in world.bot_texts(group)[before:]]  # type: ignore[attr-defined]


@pytest.mark.parametrize("bot_admin", [False, True])
async def test_a_demoted_administrator_loses_moderator_rights_at_once(
    emulator: BotApiEmulator, tmp_path: Path, bot_admin: bool
) -> None:
    """As a plain member the bot is not told of the demotion (no `chat_member` update): the
    rights are asked live for each moderator action, either way."""
    world = emulator.world
    anna = world.person(1401, "Anna")
    ben = world.person(1402, "Ben")
    group = world.group("Team", owner=anna, admins=(ben,), supergroup=True, bot_admin=bot_admin)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Rechte")
        world.send(group, ben, "/point 2")  # an administrator: allowed (and now cached)
        await bot.deliver()
        assert world.bot_texts(group)[-1].startswith("<b>2. ")
        world.demote(group, ben, by=anna)
        world.send(group, ben, "/point 3")
        await bot.deliver()
        assert "Moderator" in plain(world.bot_texts(group)[-1])
        assert not any(t.startswith("<b>3. ") for t in world.bot_texts(group))


async def test_a_just_demoted_administrator_cannot_delete_the_board_with_an_old_question(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """The attack of issue 25: the bot is a plain member (no `chat_member` update), an
    administrator asks `/deleteboard`, is demoted, and taps the question's `Löschen`."""
    world = emulator.world
    anna = world.person(1411, "Anna")
    ben = world.person(1412, "Ben")
    group = world.group("Team", owner=anna, admins=(ben,), supergroup=True, bot_admin=False)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Rechte")
        world.send(group, anna, "/ist 1 Telefon")
        world.send(group, ben, "/deleteboard")
        await bot.deliver()
        question = world.bot_messages(group)[-1]
        assert "Löschen" in str(question.reply_markup)
        world.demote(group, ben, by=anna)
        tap = world.press_label(group, ben, question, "Löschen")
        await bot.deliver()
        answer = world.answer_of(tap)
        assert answer is not None
        assert answer["show_alert"]
        assert "Moderator" in answer["text"]
        with Session(bot.engine) as session:
            assert len(session.exec(select(Entry)).all()) == 1
        world.send(group, anna, "/status")  # the board is still there
        await bot.deliver()
        assert "Rechte" in plain(world.bot_texts(group)[-1])


async def test_heavy_outputs_cool_down_per_command_while_the_board_is_unchanged(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(1501, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Flut")
        world.send(group, anna, "/ist 1 Stand")
        await bot.deliver()

        def photos() -> int:
            return sum(m.kind == "photo" for m in world.bot_messages(group))

        world.send(group, anna, "/board")
        await bot.deliver()
        assert photos() == 1
        before = len(world.bot_messages(group))
        world.send(group, anna, "/board")  # the same again: a note, no second board
        await bot.deliver()
        assert photos() == 1
        note = _texts_since(world, group, before)
        assert len(note) == 1
        assert "nicht geändert" in note[0]
        world.send(group, anna, "/export")  # another command is not held back
        await bot.deliver()
        assert sum(m.kind == "document" for m in world.bot_messages(group)) == 4
        world.send(group, anna, "/soll 1 Ziel")
        world.send(group, anna, "/export")  # the board changed (a measure came with it)
        world.send(group, anna, "/measure 1 owner Anna")
        world.send(group, anna, "/export")  # only the plan changed: the files would too
        world.send(group, anna, "/export")  # nothing changed: held back
        await bot.deliver()
        assert sum(m.kind == "document" for m in world.bot_messages(group)) == 12
        assert "nicht geändert" in plain(world.bot_texts(group)[-1])
        world.send(group, anna, "/ist 2 neu")  # the board changed: /board answers again
        world.send(group, anna, "/board")
        await bot.deliver()
        assert photos() == 2


async def test_completion_is_announced_once_a_day(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(1601, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    now = [datetime(2026, 11, 26, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Voll")
        for point in range(1, 21):
            world.send(group, anna, f"/ist {point} Stand {point}")
        await bot.deliver()

        def announcements() -> int:
            return sum("vollständig!" in t for t in world.bot_texts(group))

        assert announcements() == 1
        world.send(group, anna, "/undo")  # complete → incomplete → complete again
        world.send(group, anna, "/ist 20 wieder da")
        await bot.deliver()
        assert announcements() == 1
        now[0] += timedelta(days=1, minutes=1)
        world.send(group, anna, "/undo")
        world.send(group, anna, "/ist 20 am nächsten Tag")
        await bot.deliver()
        assert announcements() == 2


async def test_an_entry_over_the_limit_is_answered_and_not_stored(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(1701, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Lang")
        world.send(group, anna, "/point 1")
        await bot.deliver()
        card = world.bot_messages(group)[-1]
        long = world.send(group, anna, "x" * (ENTRY_LIMIT + 1), reply_to=card.message_id)
        fits = world.send(group, anna, "y" * ENTRY_LIMIT, reply_to=card.message_id)
        await bot.deliver()
        assert "zu lang" in plain(world.bot_texts(group)[-1])
        assert long.reactions == []
        assert fits.reactions == ["👍"]
        with Session(bot.engine) as session:
            stored = session.exec(select(Entry.text)).all()
        assert stored == ["y" * ENTRY_LIMIT]


def _imports(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (BOT_PACKAGE / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[path.name] = names
    return found


def test_layers_keep_their_imports() -> None:
    """model/ knows neither Telegram nor the database; render/ knows no store and no handlers."""
    for name, imports in _imports("model").items():
        assert not any(
            i.startswith(("telegram", "bot.store", "sqlalchemy", "sqlmodel")) for i in imports
        ), name
    for name, imports in _imports("render").items():
        assert not any(i.startswith(("bot.store", "bot.handlers", "telegram")) for i in imports), (
            name
        )


async def test_something_went_wrong_is_said_in_the_board_s_or_the_person_s_language(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """Issue 25: the answer to a failed update was always in BOT_LANGUAGE (de)."""
    world = emulator.world
    ann = world.person(1421, "Ann", language_code="en")
    group = world.group("Team", owner=ann, supergroup=True)
    plain_group = world.group("Other", owner=ann, supergroup=True)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, ann, "/newboard Bikes")  # an English creator: an English board
        await bot.deliver()
        data = bot.application.bot_data

        def where(chat_id: int, chat_type: str, language: str) -> Where:
            return Where(chat_id, 0, chat_type, None, language)

        with UnitOfWork(data.engine) as unit:
            assert language_of(unit, data, where(group.id, "supergroup", "de")) == "en"
            assert language_of(unit, data, where(ann.id, "private", "en")) == "en"
            assert language_of(unit, data, where(plain_group.id, "supergroup", "en")) == "de"
        assert data.messages("en")("unknown_error") != data.messages("de")("unknown_error")
