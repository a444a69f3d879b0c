"""`/close` asks first (SPEC §4a): `Abbrechen` leaves the board open, `Schließen` closes it, a
stale question does nothing and says so, only a moderator's tap counts."""

from __future__ import annotations

import pytest

from bot.playground.emulator.interactive import buttons_of
from tests.support.cards import card, labels, last
from tests.support.inprocess import board_row
from tests.support.opened import InProcessBoard
from tests.support.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_cancel_leaves_the_board_open_and_close_closes_it(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, ben, bot = scene.world, scene.group, scene.anna, scene.ben, scene.bot
    world.send(group, anna, "/point 2")
    await bot.deliver()
    world.send(group, ben, "schon da", reply_to=card(world, group, 2).message_id)
    world.send(group, anna, "/close")
    await bot.deliver()
    question = last(world, group)
    text = plain(question.text or "")
    assert text.startswith(f"Das Board „{scene.title}“ schließen?")
    assert "Noch ohne Ist-Eintrag (19): 1. Kundenbedürfnisse, 3. Sticky Information" in text
    assert "2. Kundenkommunikation" not in text
    assert labels(question) == ["🔒 Schließen", "Abbrechen"]
    # only a moderator's tap counts
    refused = world.press_label(group, ben, question, "Schließen")
    await bot.deliver()
    assert world.answer_of(refused)["show_alert"] is True  # type: ignore[index]
    assert board_row(bot).status == "open"
    world.press_label(group, anna, question, "Abbrechen")
    await bot.deliver()
    assert board_row(bot).status == "open"
    assert plain(question.text or "") == f"Abgebrochen – das Board „{scene.title}“ bleibt offen."
    assert labels(question) == []
    before = len(world.bot_messages(group))
    world.send(group, anna, "/close")
    await bot.deliver()
    second = last(world, group)
    tap = world.press_label(group, anna, second, "Schließen")
    await bot.deliver()
    assert world.answer_of(tap) == {"text": "", "show_alert": False}
    assert board_row(bot).status == "closed"
    posted = world.bot_messages(group)[before + 1 :]
    assert "ist geschlossen" in plain(posted[0].text or "")
    assert sum(1 for m in posted if m.kind == "document") >= 2  # the final files
    assert plain(second.text or "") == "🔒 Geschlossen – bestätigt von Anna."
    world.send(group, anna, "/close")
    await bot.deliver()
    assert "schon geschlossen" in plain(last(world, group).text or "")
    assert world.refusals() == []


async def test_a_stale_question_does_nothing_and_says_so(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, ben, bot = scene.world, scene.group, scene.anna, scene.ben, scene.bot
    world.send(group, anna, "/point 1")
    world.send(group, anna, "/close")
    await bot.deliver()
    changed = last(world, group)
    # the board changes after the question: an entry arrives
    world.send(group, ben, "neu", reply_to=card(world, group, 1).message_id)
    await bot.deliver()
    tap = world.press_label(group, anna, changed, "Schließen")
    await bot.deliver()
    answer = world.answer_of(tap)
    assert answer is not None
    assert answer["show_alert"] is True
    assert "veraltet" in answer["text"]
    assert board_row(bot).status == "open"
    assert labels(changed) == []
    # closed through a newer question, then reopened: the older question is stale as well
    world.send(group, anna, "/close")
    await bot.deliver()
    older = last(world, group)
    world.send(group, anna, "/close")
    await bot.deliver()
    newer = last(world, group)
    world.press_label(group, anna, newer, "Schließen")
    await bot.deliver()
    assert board_row(bot).status == "closed"
    world.send(group, anna, "/reopen")
    await bot.deliver()
    assert board_row(bot).status == "open"
    datas = {b["text"]: b["callback_data"] for b in buttons_of(older.reply_markup)}
    for label in ("🔒 Schließen", "Abbrechen"):  # the second one after the first took them off
        tap = world.forge_press(group, anna, older.message_id, datas[label])
        await bot.deliver()
        answer = world.answer_of(tap)
        assert answer is not None
        assert "veraltet" in answer["text"]
    assert board_row(bot).status == "open"
    assert world.refusals() == []
