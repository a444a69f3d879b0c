"""A press counts only with data that is on a button of the pressed message (issue 25): a
forged plan-page press no longer replaces a card, a forged point press no longer moves the
board's current point."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.playground.emulator.interactive import buttons_of
from bot.store.tables import Board
from tests.support.inprocess import InProcessBot
from tests.support.opened import InProcessBoard
from tests.support.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def board_of(bot: InProcessBot) -> Board:
    with Session(bot.engine) as session:
        return session.exec(select(Board)).one()


async def test_forged_page_and_point_presses_are_refused_and_change_nothing(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, ben, bot = scene.world, scene.group, scene.anna, scene.ben, scene.bot
    world.send(group, anna, "/point 1")
    await bot.deliver()
    board = board_of(bot)
    card = world.bot_messages(group)[-1]
    assert plain(card.text or "").startswith("1. ")
    shown, edits = card.text, card.edits
    before = len(world.bot_messages(group))
    point = board.current_point

    taps = [
        # a member pages "the plan" on the newest card
        world.forge_press(group, ben, card.message_id, f"v1:plpg:{board.id}:0.a"),
        # a moderator's point button that is on no message of the chat
        world.forge_press(group, anna, card.message_id, f"v1:pt:{board.id}:7"),
        # the card's own button, with another point
        world.forge_press(group, ben, card.message_id, f"v1:ist:{board.id}:5"),
    ]
    await bot.deliver()
    for tap in taps:
        answer = world.answer_of(tap)
        assert answer is not None
        assert answer["show_alert"]
        assert "gehört nicht zu dieser Nachricht" in answer["text"]
    assert (card.text, card.edits) == (shown, edits)
    assert len(world.bot_messages(group)) == before
    assert board_of(bot).current_point == point

    # the buttons that are on the card still work
    ist = next(b["callback_data"] for b in buttons_of(card.reply_markup) if "Ist" in b["text"])
    tap = world.press(group, ben, card, ist)
    await bot.deliver()
    answer = world.answer_of(tap)
    assert answer is not None
    assert not answer["show_alert"]
    assert world.refusals() == []
