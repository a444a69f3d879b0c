"""Meeting the bot (SPEC §4a): command menus per scope and language, a short private /start with
deep links, the demo by deep link, one welcome per group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import clock
from bot.app import COMMANDS
from bot.playground.emulator import BotApiEmulator, Chat
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.model import BOT_USERNAME
from tests.support.cards import last
from tests.support.inprocess import inprocess_bot
from tests.support.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

MODERATOR_ONLY = {"newboard", "area", "next", "point", "close", "reopen", "remind", "timezone"}


async def test_menus_for_three_scopes_in_both_languages(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path) as bot:
        assert bot.application.post_init is not None
        await bot.application.post_init(bot.application)
    menus = world.menus
    scopes = ("all_private_chats", "all_group_chats", "all_chat_administrators")
    assert set(menus.commands) == {(scope, code) for scope in scopes for code in ("", "en")}
    names = {key: [c["command"] for c in commands] for key, commands in menus.commands.items()}
    for code in ("", "en"):
        private = names[("all_private_chats", code)]
        members = names[("all_group_chats", code)]
        admins = names[("all_chat_administrators", code)]
        assert private[:3] == ["start", "help", "demo"]
        assert "ist" not in private  # group-only commands are not offered in private chats
        assert not MODERATOR_ONLY & set(members)  # members never see what they may not use
        assert set(admins) >= MODERATOR_ONLY
        assert set(members) <= set(admins)
        assert set(private) | set(admins) <= set(COMMANDS)  # only commands that exist
    german = {c["command"]: c["description"] for c in menus.commands[("all_group_chats", "")]}
    english = {c["command"]: c["description"] for c in menus.commands[("all_group_chats", "en")]}
    assert german["undo"] == "Deinen letzten Eintrag zurücknehmen"
    assert english["undo"] == "Take back your last entry"
    assert set(menus.descriptions) == set(menus.short_descriptions) == {"", "en"}
    assert "Sechs-Cluster-Modell" in menus.descriptions[""]
    assert "six-cluster model" in menus.short_descriptions["en"]
    assert world.refusals() == []


async def test_private_start_is_short_with_two_deep_links(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    carla = world.person(1801, "Carla", language_code="en")
    private = world.private(carla)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(private, carla, "/start")
        await bot.deliver()
        answer = last(world, private)
        assert len(plain(answer.text or "").splitlines()) <= 5
        assert "Add me to your group" in plain(answer.text or "")
        urls = [b["url"] for b in buttons_of(answer.reply_markup)]
        assert urls == [
            f"https://t.me/{BOT_USERNAME}?startgroup=board",
            f"https://t.me/{BOT_USERNAME}?start=demo",
        ]
        # the demo button is a deep link: Telegram sends `/start demo`
        world.send(private, carla, "/start demo")
        await bot.deliver()
        assert any(m.kind == "photo" for m in world.bot_messages(private))
        assert any("complete board" in plain(t) for t in world.bot_texts(private))
        assert world.refusals() == []


async def test_one_welcome_per_group_not_after_restart_migration_or_re_add(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(1901, "Anna")
    group = world.group("Team", owner=anna)
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(clock, "now", lambda: now[0])

    def welcomes(chat: Chat) -> int:
        return sum(1 for t in world.bot_texts(chat) if "Hallo!" in t)

    async with inprocess_bot(emulator, tmp_path) as bot:
        world.add_bot(group, anna)
        await bot.deliver()
        assert welcomes(group) == 1
        assert "/newboard Titel" in plain(last(world, group).text or "")
        world.remove_bot(group, anna)
        world.add_bot(group, anna)  # re-added the same day
        await bot.deliver()
        assert welcomes(group) == 1
    async with inprocess_bot(emulator, tmp_path) as bot:  # a restart on the same database
        now[0] += timedelta(hours=3)
        world.remove_bot(group, anna)
        world.add_bot(group, anna)
        await bot.deliver()
        assert welcomes(group) == 1
        supergroup = world.migrate(group)
        world.remove_bot(supergroup, anna)
        world.add_bot(supergroup, anna)
        await bot.deliver()
        assert welcomes(supergroup) == 0  # a new chat (ids from 1); no second welcome
        now[0] += timedelta(days=2)  # a re-add days later is greeted again
        world.remove_bot(supergroup, anna)
        world.add_bot(supergroup, anna)
        await bot.deliver()
        assert welcomes(supergroup) == 1
        # only the look-ups that confirm the migration were refused (by design)
        assert {r.method for r in world.refusals()} == {"getChat"}
