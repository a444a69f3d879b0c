"""Buttons after a restart, and bad input by tap (SPEC §4a): presses on deleted or foreign
messages, forged payloads, double taps, a tap by someone who left, a reply to someone else's
prompt, typed commands with the old syntax. All answered, nothing lost, nothing doubled."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.playground.emulator import BotApiEmulator
from bot.store.erasure import erase_board, erase_person
from bot.store.tables import CardFace, CloseQuestion, ProgressMessage, Prompt
from tests.support.cards import card, card_numbers, cards, labels, last
from tests.support.inprocess import board_row, board_titled, inprocess_bot, stored_entries
from tests.support.opened import InProcessBoard
from tests.support.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_old_buttons_and_prompts_work_after_a_restart(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2001, "Anna")
    ben = world.person(2002, "Ben")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Neustart")
        world.send(group, anna, "/area 1")
        await bot.deliver()
        one = card(world, group, 1)
        world.press_label(group, ben, one, "Soll")
        await bot.deliver()
        prompt = last(world, group)
        world.send(group, anna, "/close")
        await bot.deliver()
        question = last(world, group)
    async with inprocess_bot(emulator, tmp_path) as bot:  # a new process, the same database
        reply = world.send(group, ben, "nach dem Neustart", reply_to=prompt.message_id)
        await bot.deliver()
        assert reply.reactions == ["👍"]
        assert stored_entries(bot) == [(1, "soll", "nach dem Neustart", "Ben")]
        world.press_label(group, anna, one, "Weiter ▶")
        await bot.deliver()
        assert card(world, group, 2) is cards(world, group)[-1]
        # the question was asked before the entry: out of date, it says so
        tap = world.press_label(group, anna, question, "Schließen")
        await bot.deliver()
        assert "veraltet" in (world.answer_of(tap) or {}).get("text", "")
        world.send(group, anna, "/close")
        await bot.deliver()
        world.press_label(group, anna, last(world, group), "Schließen")
        await bot.deliver()
        assert board_row(bot).status == "closed"
        # a card button of the closed board: an alert, nothing recorded
        tap = world.press_label(group, ben, card(world, group, 2), "Ist")
        await bot.deliver()
        answer = world.answer_of(tap)
        assert answer is not None
        assert answer["show_alert"] is True
        assert "geschlossen" in answer["text"]
        assert world.refusals() == []


async def test_bad_input_by_tap_is_answered_and_changes_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2101, "Anna")
    ben = world.person(2102, "Ben")
    carla = world.person(2103, "Carla")
    group = world.group("Team", owner=anna)
    other = world.group("Andere", owner=carla)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Hier")
        world.send(group, anna, "/point 3")
        world.send(other, carla, "/newboard Dort")
        await bot.deliver()
        three = card(world, group, 3)
        here = board_row(bot)  # the latest: the other group's board
        before = len(world.bot_messages(group))

        # a double tap on Ist: one prompt, the second tap says where it is
        first = world.press_label(group, ben, three, "Ist")
        second = world.press_label(group, ben, three, "Ist")
        await bot.deliver()
        assert len(world.bot_messages(group)) == before + 1
        assert world.answer_of(first) == {
            "text": "Antworte auf meine Frage im Chat.",
            "show_alert": False,
        }
        assert "schon im Chat" in (world.answer_of(second) or {}).get("text", "")
        prompt = last(world, group)

        # a reply to someone else's prompt counts for the replier
        reply = world.send(group, carla, "Carla antwortet", reply_to=prompt.message_id)
        await bot.deliver()
        assert reply.reactions == ["👍"]
        assert stored_entries(bot) == [(3, "ist", "Carla antwortet", "Carla")]

        # forged or foreign payloads: an alert, nothing changed
        forged = [
            world.forge_press(group, anna, three.message_id, f"v1:next:{here.id}:3"),
            world.forge_press(group, anna, three.message_id, "v1:ist:999999:3"),
            world.forge_press(group, anna, three.message_id, "v1:ist:1:99"),
            world.forge_press(group, anna, three.message_id, "v1:ist:1:drei"),
            world.forge_press(group, anna, three.message_id, "v1:bogus:1:1"),
            world.forge_press(group, anna, three.message_id, "v0:ist:1:3"),
        ]
        # digits that are no ASCII digits, and numbers past any column: refused, no crash
        hier = board_titled(bot, "Hier").id
        forged += [
            world.forge_press(group, anna, three.message_id, data)
            for data in (
                f"v1:ist:{hier}:²",
                f"v1:ist:{hier}:٣",
                "v1:ist:99999999999999999999:3",
                f"v1:area:{hier}:²",
                f"v1:closeok:{hier}:99999999999999999999",
                f"v1:plst:{hier}:².doing.0.p",
                f"v1:plpg:{hier}:٣.p",
                f"v1:pvf:{hier}:y²",
            )
        ]
        count = len(world.bot_messages(group))
        await bot.deliver()
        for tap in forged:
            answer = world.answer_of(tap)
            assert answer is not None
            assert answer["show_alert"] is True
        assert len(world.bot_messages(group)) == count

        # a press on a card deleted meanwhile: the prompt still comes (replying to nothing)
        world.press_label(group, carla, three, "Soll")
        world.delete(group, three.message_id)
        await bot.deliver()
        gone = last(world, group)
        assert "Soll" in plain(gone.text or "")
        world.send(group, carla, "trotzdem", reply_to=gone.message_id)
        await bot.deliver()
        assert stored_entries(bot)[-1] == (3, "soll", "trotzdem", "Carla")

        # someone who left: a moderator button gets an alert, nothing moves
        world.send(group, anna, "/point 4")
        await bot.deliver()
        four = card(world, group, 4)
        dora = world.person(2104, "Dora")  # not a member any more, never a moderator
        tap = world.press_label(group, dora, four, "Weiter ▶")
        await bot.deliver()
        assert (world.answer_of(tap) or {}).get("show_alert") is True
        assert board_titled(bot, "Hier").current_point == 4

        # typed commands in the old syntax keep working
        for typed in ("/area 2", "/point 7", "/next", "/ist 7 getippt", "/soll getippt"):
            world.send(group, anna, typed)
        await bot.deliver()
        assert card_numbers(world, group)[-3:] == [5, 7, 8]
        assert stored_entries(bot)[-2:] == [
            (7, "ist", "getippt", "Anna"),
            (8, "soll", "getippt", "Anna"),
        ]
        assert labels(card(world, group, 8))[-1] == "Weiter ▶"
        # the one refusal: taking `Weiter ▶` off the deleted card (best effort, no failure)
        assert [(r.method, r.params["message_id"]) for r in world.refusals()] == [
            ("editMessageText", str(three.message_id))
        ]
        assert world.violations == []


async def test_erasers_remove_prompts_faces_and_questions(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, ben, bot = scene.world, scene.group, scene.anna, scene.ben, scene.bot
    world.send(group, anna, "/area 1")
    await bot.deliver()
    world.press_label(group, ben, card(world, group, 1), "Ist")
    world.send(group, anna, "/close")
    await bot.deliver()
    board_id = board_row(bot).id
    assert board_id is not None
    with Session(bot.engine) as session:
        assert erase_person(session, ben.id)["interaction"] == {board_id: 1}
        removed = erase_board(session, board_id)["interaction"]
        session.commit()
        assert removed == 3  # the card's face, the status message record, the question
        for table in (CardFace, Prompt, ProgressMessage, CloseQuestion):
            assert session.exec(select(table)).all() == []
