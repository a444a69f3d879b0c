"""The weekly digest in-process: what came in since the last one, empty points with card
buttons that work in a basic group, who has not contributed (never someone who sent /quiet),
and one message within 4096 characters however many people the bot has seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.handlers import reminders
from bot.playground.emulator import BotApiEmulator, Chat, Person, World
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.world import StoredMessage
from bot.render.split import telegram_length
from bot.store import chats as chat_store
from bot.store.tables import Board
from tests.inprocess import InProcessBot, inprocess_bot
from tests.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def _digest(bot: InProcessBot, group: Chat) -> StoredMessage:
    """Make the weekly reminder due a minute ago, sweep, and return the digest it posted."""
    now = datetime.now(UTC)
    with Session(bot.engine) as session:
        board = session.exec(select(Board)).one()
        board.next_reminder_at = now - timedelta(minutes=1)
        session.commit()
    before = len(bot.world.bot_messages(group))
    assert await reminders.sweep(bot.context, now) == 1
    [digest] = bot.world.bot_messages(group)[before:]
    assert digest.text is not None
    return digest


def _people(world: World) -> tuple[Person, Person, Person, Person]:
    return (
        world.person(101, "Anna"),
        world.person(102, "Ben"),
        world.person(103, "Carla"),
        world.person(104, "Dora"),
    )


async def test_digest_counts_lists_names_and_its_buttons_bring_up_cards(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna, ben, carla, dora = _people(world)
    group = world.group("Team", owner=anna)  # a basic group: no message links
    async with inprocess_bot(emulator, tmp_path) as bot:
        for person, text in [
            (anna, "/newboard Citybike"),
            (ben, "/ist 1 Maße werden neu genommen"),
            (ben, "/soll 1 Maße einmal erfassen"),
            (carla, "/status"),
            (dora, "/status"),
            (dora, "/quiet"),
        ]:
            world.send(group, person, text)
        await bot.deliver()
        assert "nennt dich hier nicht mehr" in plain(world.bot_texts(group)[-1])
        digest = await _digest(bot, group)
        text = plain(digest.text or "")
        assert "Wöchentliche Erinnerung – Citybike" in text
        assert "2 Einträge · Beteiligte: 1" in text
        assert "Noch ohne Ist-Eintrag: 19 von 20 Punkten" in text
        assert "Noch nichts von: Anna, Carla" in text
        assert "Dora" not in text
        assert "Ben" not in text.split("Noch nichts von")[1]
        assert "1. Kundenbedürfnisse" not in text
        assert "href" not in (digest.text or "")  # basic groups have no links; buttons instead
        labels = [b["text"] for b in buttons_of(digest.reply_markup)]
        assert len(labels) == 19
        assert labels[0] == "2. Kundenkommunikation"
        # anyone may tap: the card comes, in the basic group
        query = world.press_label(group, carla, digest, "7. Komplex")
        await bot.deliver()
        answer = world.answer_of(query)
        assert answer is not None
        assert "kommt" in answer.get("text", "")
        card = world.bot_messages(group)[-1]
        assert (card.text or "").startswith("<b>7. ")
        # tapped again and again: no second card within the minute
        before = len(world.bot_messages(group))
        again = [world.press_label(group, dora, digest, "7. Komplex") for _ in range(3)]
        await bot.deliver()
        assert len(world.bot_messages(group)) == before
        assert all("eben erst" in (world.answer_of(q) or {}).get("text", "") for q in again)
        # a reply to that card is an entry of point 7
        world.send(group, carla, "Ist: Variantenliste auf Papier", reply_to=card.message_id)
        await bot.deliver()
        world.send(group, dora, "/quiet off")
        await bot.deliver()
        second = plain((await _digest(bot, group)).text or "")
        assert "1 Einträge · Beteiligte: 1" in second  # only what came since the first digest
        assert "Noch nichts von: Anna, Dora" in second
        assert "18 von 20" in second


async def test_quiet_needs_a_person_and_a_known_word(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna, *_ = _people(world)
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/quiet bitte")
        await bot.deliver()
        assert plain(world.bot_texts(group)[-1]).startswith("So geht’s: /quiet")
        world.send(world.private(anna), anna, "/quiet")
        await bot.deliver()
        assert "Gruppe" in plain(world.bot_texts(world.private(anna))[-1])


async def test_one_message_within_the_limit_with_many_members_and_long_names(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna, *_ = _people(world)
    group = world.group("Team", owner=anna, supergroup=True)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard " + "Sehr langer Titel " * 6)
        for point in range(1, 21):
            world.send(group, anna, f"/point {point}")  # every point has a card: links too
        await bot.deliver()
        with Session(bot.engine) as session:
            for index in range(500):
                chat_store.note_member(
                    session,
                    chat_id=group.id,
                    person_id=10_000 + index,
                    name=f"Ä<&>{index:03d} " + "Langname" * 7,
                )
            session.commit()
        digest = await _digest(bot, group)
        body = digest.text or ""
        assert telegram_length(body) <= 4096
        assert "… und " in body
        assert "weitere" in body
        assert "Noch nichts von: Anna, Ä&lt;&amp;&gt;000" in body
        assert len(buttons_of(digest.reply_markup)) == 20
        assert world.refusals() == []
