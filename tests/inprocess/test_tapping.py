"""Tap, don't type (SPEC §4a), in-process against the emulator: a team fills points with taps
and replies to prompts, a moderator walks the areas by tap, refusals come as alerts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.interactive import force_reply_of
from tests.support.cards import card, card_numbers, cards, labels, last
from tests.support.inprocess import board_row, inprocess_bot, stored_entries
from tests.support.opened import InProcessBoard
from tests.support.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_a_team_fills_three_points_with_taps_and_replies_only(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, ben, bot = scene.world, scene.group, scene.anna, scene.ben, scene.bot
    carla = world.person(103, "Carla")
    opened = last(world, group)
    assert "Citybike" in plain(opened.text or "")
    assert "1. Kunde 0/4" in labels(opened)
    tap = world.press_label(group, anna, opened, "1. Kunde")
    await bot.deliver()
    assert world.answer_of(tap) == {"text": "Bereich 1 ist offen.", "show_alert": False}
    for number in (1, 2, 3):
        shown = card(world, group, number)
        assert labels(shown) == ["✍️ Ist · 0", "🎯 Soll · 0", "💡 Beispiel", "Weiter ▶"]
        for person, label, text in (
            (ben, "Ist", f"heute {number}"),
            (carla, "Soll", f"morgen {number}"),
        ):
            tap = world.press_label(group, person, shown, label)
            await bot.deliver()
            assert world.answer_of(tap) is not None
            prompt = last(world, group)
            assert prompt.reply_to == shown.message_id  # a tap has no message to reply to
            assert f'<a href="tg://user?id={person.id}">{person.first_name}</a>' in (
                prompt.text or ""
            )
            force = force_reply_of(world.calls("sendMessage")[-1].params)
            assert force is not None
            assert force["selective"] is True
            heading = plain(shown.text or "").split(" · ")[0]
            assert heading in force["input_field_placeholder"]
            reply = world.send(group, person, text, reply_to=prompt.message_id)
            await bot.deliver()
            assert reply.reactions == ["👍"]
        world.press_label(group, anna, shown, "Weiter ▶")
        await bot.deliver()
    assert stored_entries(bot) == [
        (n, kind, f"{word} {n}", who)
        for n in (1, 2, 3)
        for kind, word, who in (("ist", "heute", "Ben"), ("soll", "morgen", "Carla"))
    ]
    typed = [
        m.text
        for m in world.chats[group.id].messages.values()
        if m.sender is not None and not m.sender.is_bot and (m.text or "").startswith("/")
    ]
    assert typed == ["/newboard Citybike"]
    assert world.refusals() == []
    assert world.violations == []


async def test_a_moderator_walks_the_areas_by_tap(opened_board_inprocess: InProcessBoard) -> None:
    scene = opened_board_inprocess
    world, group, anna, bot = scene.world, scene.group, scene.anna, scene.bot
    world.send(group, anna, "/area")
    await bot.deliver()
    picker = last(world, group)
    assert plain(picker.text or "").startswith("Welcher Bereich?")
    assert labels(picker) == [
        "1. Kunde 0/4",
        "2. Differenzierung 0/1",
        "3. Produkt 0/6",
        "4. Daten 0/3",
        "5. Mitarbeiter 0/2",
        "6. Value Chain 0/4",
    ]
    world.press_label(group, anna, picker, "2. Differenzierung")
    await bot.deliver()
    five = card(world, group, 5)
    assert "Weiter ▶" in labels(five)
    # the only point of area 2: Weiter ▶ opens the next area with empty fields
    world.press_label(group, anna, five, "Weiter ▶")
    await bot.deliver()
    six = card(world, group, 6)
    assert "Weiter ▶" in labels(six)
    assert "Weiter ▶" not in labels(card(world, group, 5))  # older cards lose it
    assert any("Weiter mit" in plain(t) and "Bereich 3" in plain(t) for t in world.bot_texts(group))
    # a double tap moves on once
    world.press_label(group, anna, six, "Weiter ▶")
    second = world.press(group, anna, six, f"v1:next:{board_row(bot).id}:6")
    await bot.deliver()
    assert world.answer_of(second) == {
        "text": "Schon weiter – nimm den Knopf unter der neuesten Karte.",
        "show_alert": False,
    }
    assert card_numbers(world, group) == [5, 6, 7]
    # /point without a number: the points of the current area, and a row to switch area
    world.send(group, anna, "/point")
    await bot.deliver()
    points = last(world, group)
    assert plain(points.text or "").startswith("Welcher Punkt? Bereich 3: Produkt")
    assert labels(points)[:2] == ["▫️ 6. Konfiguration", "▫️ 7. Komplexität"]
    assert labels(points)[-6:] == ["1", "2", "· 3 ·", "4", "5", "6"]
    world.press_label(group, anna, points, "5")
    await bot.deliver()
    switch = ["1", "2", "3", "4", "· 5 ·", "6"]
    assert labels(points) == ["▫️ 15. Know-How", "▫️ 16. Interne Kommunikation", *switch]
    assert points.edits == 1
    world.press_label(group, anna, points, "16. Interne")
    await bot.deliver()
    assert card(world, group, 16) is cards(world, group)[-1]
    assert board_row(bot).current_point == 16
    assert world.refusals() == []


async def test_a_non_moderators_taps_change_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(1301, "Anna")
    eve = world.person(1302, "Eve")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Rechte")
        world.send(group, anna, "/area 1")
        world.send(group, anna, "/point")
        await bot.deliver()
        opened = world.bot_messages(group)[0]
        picker = last(world, group)
        one = card(world, group, 1)
        before = len(world.bot_messages(group))
        board_before = board_row(bot)
        taps = [
            world.press_label(group, eve, opened, "3. Produkt"),
            world.press_label(group, eve, one, "Weiter ▶"),
            world.press_label(group, eve, picker, "4. Learning"),
            world.press_label(group, eve, picker, "6"),
        ]
        await bot.deliver()
        for tap in taps:
            answer = world.answer_of(tap)
            assert answer is not None
            assert answer["show_alert"] is True
            assert "Moderatoren" in answer["text"]
        assert len(world.bot_messages(group)) == before
        assert picker.edits == 0
        after = board_row(bot)
        assert (after.current_area, after.current_point) == (
            board_before.current_area,
            board_before.current_point,
        )
        # the card buttons for everyone still work for her
        world.press_label(group, eve, one, "Beispiel")
        await bot.deliver()
        assert "Beispiel zu 1. Kundenbedürfnisse" in plain(last(world, group).text or "")
        assert world.refusals() == []
