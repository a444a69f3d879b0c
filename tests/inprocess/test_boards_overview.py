"""`/boards` in a private chat (SPEC §11), in-process: rights asked from Telegram right now."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.model import Chat, Person
from bot.playground.emulator.world import World
from bot.store.tables import Board
from tests.support.inprocess import InProcessBot, inprocess_bot
from tests.support.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _board_of(bot: InProcessBot, title: str) -> int:
    with Session(bot.engine) as session:
        board = session.exec(select(Board).where(Board.title == title)).one()
    assert board.id is not None
    return board.id


async def teams(bot: InProcessBot, world: World) -> tuple[Person, Person, list[Chat]]:
    """Kai consults three teams: owner of one, administrator of two; Lea helps in two."""
    kai = world.person(501, "Kai")
    lea = world.person(502, "Lea")
    owners = [world.person(510 + i, name) for i, name in enumerate(("Olga", "Paul"))]
    north = world.group("Nord GmbH", owner=owners[0], admins=(kai, lea))
    south = world.group("Süd AG", owner=kai, admins=(lea,))
    west = world.group("West KG", owner=owners[1], admins=(kai,))
    world.send(north, owners[0], "/newboard Citybike")
    world.send(south, kai, "/newboard Lastenrad")
    world.send(west, owners[1], "/newboard Werkstatt")
    await bot.deliver()
    world.send(north, owners[0], "/ist 1 Bestellung per Telefon")
    world.send(north, lea, "/ist 2 Flyer im Laden")
    world.send(south, lea, "/soll 1 Online konfigurieren")
    world.send(south, kai, "/pace mo-fr 08:30")
    # Kai has been seen in every group (the bot asks Telegram only about those)
    world.send(north, kai, "/status")
    world.send(west, kai, "/status")
    await bot.deliver()
    return kai, lea, [north, south, west]


async def test_boards_lists_the_groups_moderated_now_and_sends_privately(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path) as bot:
        kai, _, groups = await teams(bot, world)
        private = world.private(kai)
        asked_before = len(world.calls("getChatMember"))  # moderator commands ask live too
        world.send(private, kai, "/boards")
        await bot.deliver()
        shown = [plain(m.text or "") for m in world.bot_messages(private)]
        assert len(shown) == 3  # one message per group
        assert "Gruppen: 3, Boards: 3" in shown[0]
        overview = "\n".join(shown)
        for group, title in zip(groups, ("Citybike", "Lastenrad", "Werkstatt"), strict=True):
            assert group.title in overview
            assert title in overview
        assert "Kunde ▰▰▱▱ 2/4 · Differenzierung ▱ 0/1" in overview
        assert "Nächste Erinnerung: Montag" in overview
        assert overview.count("Nächste Autopilot-Karte:") == 1  # Süd runs on autopilot
        assert len(world.calls("getChatMember")) - asked_before == 3  # asked, not cached

        citybike = next(m for m in world.bot_messages(private) if "Citybike" in (m.text or ""))
        world.press_label(private, kai, citybike, "Dateien")
        await bot.deliver()
        files = [m.file_name or "" for m in world.bot_messages(private) if m.kind == "document"]
        assert any(name.endswith(".json") for name in files)
        assert any(name.endswith(".md") for name in files)
        assert not [m for m in world.bot_messages(groups[0]) if m.kind == "document"]

        world.press_label(private, kai, citybike, "Status")
        await bot.deliver()
        status = plain(world.bot_messages(private)[-1].text or "")
        assert "Stand: Citybike" in status
        assert world.refusals() == []


async def test_a_demoted_administrator_and_a_stranger_see_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path) as bot:
        _, lea, groups = await teams(bot, world)
        north, south, _ = groups
        private = world.private(lea)
        world.send(private, lea, "/boards")
        await bot.deliver()
        listed = world.bot_messages(private)
        assert len(listed) == 2  # Nord and Süd, while she is an administrator there

        world.chats[north.id].admins.discard(lea.id)
        world.chats[south.id].admins.discard(lea.id)
        citybike = next(m for m in listed if "Citybike" in (m.text or ""))
        world.press_label(private, lea, citybike, "Status")  # an old button, pressed after
        await bot.deliver()
        refused = plain(world.bot_messages(private)[-1].text or "")
        assert "Das zeige ich dir nicht" in refused
        assert north.title not in refused  # button ids can be forged: the group is not named
        assert "Stand:" not in "\n".join(plain(m.text or "") for m in world.bot_messages(private))

        world.send(private, lea, "/boards")
        await bot.deliver()
        assert "kein Board" in plain(world.bot_messages(private)[-1].text or "")

        stranger = world.person(599, "Sam")
        alone = world.private(stranger)
        world.send(alone, stranger, "/boards")
        await bot.deliver()
        assert [plain(m.text or "") for m in world.bot_messages(alone)] == [
            plain(world.bot_messages(private)[-1].text or "")
        ]
        # a stranger forging the status button of every board id learns no group's name
        for board_id in range(1, 5):
            world.forge_press(alone, stranger, 1, f"v1:pvs:{board_id}:")
        await bot.deliver()
        answers = "\n".join(plain(m.text or "") for m in world.bot_messages(alone))
        assert not any(group.title in answers for group in groups)
        assert "Stand:" not in answers


async def test_the_overview_s_buttons_stay_private_and_board_creators_keep_their_board(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path) as bot:
        kai, _, groups = await teams(bot, world)
        north = groups[0]
        # the private overview's files button forged into the group: refused (no way round
        # /export's cool-down)
        tap = world.forge_press(north, kai, 1, f"v1:pve:{_board_of(bot, 'Citybike')}:")
        await bot.deliver()
        assert "privaten Chat" in (world.answer_of(tap) or {}).get("text", "")
        assert not [m for m in world.bot_messages(north) if m.kind == "document"]

        # Kai opens a board where he is an administrator, then is demoted everywhere but Süd
        east = world.group("Ost OHG", owner=world.person(520, "Rita"), admins=(kai,))
        world.send(east, kai, "/newboard Ladenbau")
        await bot.deliver()
        for group in (north, groups[2], east):
            world.chats[group.id].admins.discard(kai.id)
        private = world.private(kai)
        world.send(private, kai, "/boards")
        await bot.deliver()
        overview = "\n".join(plain(m.text or "") for m in world.bot_messages(private))
        assert "Lastenrad" in overview  # his own group
        assert "Ladenbau" in overview  # he opened it
        assert "Citybike" not in overview
        assert "Werkstatt" not in overview


async def test_a_removed_creator_no_longer_reads_the_board(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """Issue 25: whoever opened a board sees it only while still in its group."""
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path) as bot:
        owner = world.person(530, "Olga")
        mia = world.person(531, "Mia")
        group = world.group("Nord GmbH", owner=owner, admins=(mia,))
        world.send(group, mia, "/newboard Citybike")
        await bot.deliver()
        world.chats[group.id].admins.discard(mia.id)  # demoted: still a member, she opened it
        private = world.private(mia)
        world.send(private, mia, "/boards")
        await bot.deliver()
        listed = world.bot_messages(private)
        assert "Citybike" in plain(listed[-1].text or "")
        world.send(group, owner, "/ist 1 nach ihrer Entfernung geschrieben")
        world.chats[group.id].removed.add(mia.id)  # then removed from the group
        await bot.deliver()
        world.press_label(private, mia, listed[-1], "Status")
        world.press_label(private, mia, listed[-1], "Dateien")
        await bot.deliver()
        answers = [plain(m.text or "") for m in world.bot_messages(private)[len(listed) :]]
        assert len(answers) == 2
        assert all("Das zeige ich dir nicht" in a for a in answers), answers
        assert not [m for m in world.bot_messages(private) if m.kind == "document"]
        world.send(private, mia, "/boards")
        await bot.deliver()
        assert "kein Board" in plain(world.bot_messages(private)[-1].text or "")


async def test_a_stranger_s_boards_asks_telegram_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """Issue 25: the cost of /boards grows with the person's groups, not with all groups."""
    world = emulator.world
    async with inprocess_bot(emulator, tmp_path) as bot:
        kai, _, _ = await teams(bot, world)
        for index in range(12):
            owner = world.person(540 + index, f"Owner{index}")
            other = world.group(f"Firma {index}", owner=owner)
            world.send(other, owner, f"/newboard Board {index}")
        await bot.deliver()
        asked = len(world.calls("getChatMember"))
        stranger = world.person(599, "Sam")
        world.send(world.private(stranger), stranger, "/boards")
        await bot.deliver()
        assert len(world.calls("getChatMember")) == asked  # 15 groups with boards, no request
        world.send(world.private(kai), kai, "/boards")
        await bot.deliver()
        assert len(world.calls("getChatMember")) == asked + 3  # Kai's three groups only
