"""The plan in the group (SPEC §10), in-process against the emulator, with a controlled clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot import clock
from bot.handlers.plan import followup_sweep
from bot.model.demo import example_entry_text
from bot.model.entry_text import Kind
from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.world import Chat, Person, StoredMessage, World
from bot.render.split import MESSAGE_LIMIT, telegram_length
from bot.store import boards as board_store
from bot.store import entries as entry_store
from bot.store import plan as plan_store
from bot.store.tables import Board, Measure
from tests.inprocess import CATALOGUE, InProcessBot, inprocess_bot
from tests.scenario import plain

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday; the boards' zone is Europe/Berlin


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _measures(bot: InProcessBot) -> dict[int, Measure]:
    with Session(bot.engine) as session:
        rows = session.exec(select(Measure).order_by(col(Measure.number))).all()
        return {row.number: row for row in rows}


def _last(world: World, group: Chat) -> StoredMessage:
    return world.bot_messages(group)[-1]


def _since(world: World, group: Chat, count: int) -> list[str]:
    return [plain(t) for t in world.bot_texts(group)[count:]]


def _button(message: StoredMessage, starts: str) -> str:
    for found in buttons_of(message.reply_markup):
        if found.get("text", "").startswith(starts):
            return str(found["callback_data"])
    raise AssertionError(f"no button starting {starts!r}: {buttons_of(message.reply_markup)}")


async def _all_pages(bot: InProcessBot, group: Chat, person: Person, message: StoredMessage) -> str:
    """Page through the plan message with ▶ and return every page's text."""
    world = bot.world
    texts = [message.text or ""]
    while any("▶" in b.get("text", "") for b in buttons_of(message.reply_markup)):
        query = world.press_label(group, person, message, "▶")
        await bot.deliver()
        assert world.answer_of(query) is not None
        texts.append(message.text or "")
    for text in texts:
        assert telegram_length(text) <= MESSAGE_LIMIT
    return "\n".join(plain(t) for t in texts)


async def _complete_board(bot: InProcessBot, group: Chat, anna: Person, ben: Person) -> list[str]:
    """A board filled from the source's bicycle example; returns the Soll texts in order."""
    world = bot.world
    model = CATALOGUE["de"]
    world.send(group, anna, "/newboard Citybike 2027")
    soll: list[str] = []
    for point in model.points:
        for index, part in enumerate(point.example):
            text = example_entry_text(model, part)
            world.send(group, anna if index % 2 else ben, f"/{part.kind} {point.number} {text}")
            if part.kind == "soll":
                soll.append(text)
    await bot.deliver()
    return soll


async def test_plan_lists_every_soll_and_moderators_shape_it(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(101, "Anna")
    ben = world.person(102, "Ben")
    group = world.group("Fahrradhandel", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        soll = await _complete_board(bot, group, anna, ben)
        assert len(soll) > 5
        world.send(group, ben, "/plan")
        await bot.deliver()
        plan = _last(world, group)
        shown = await _all_pages(bot, group, ben, plan)
        for text in soll:
            assert text in shown
        assert f"{len(soll)} Maßnahmen · {len(soll)} ohne Verantwortliche" in shown
        assert sorted(_measures(bot)) == list(range(1, len(soll) + 1))

        # a moderator shapes measure 1 by command, each change answered in one line
        before = len(world.bot_messages(group))
        helper = world.send(group, ben, "Ich übernehme Nr. 2")
        world.send(group, anna, "/measure 1 owner @anna_mueller")
        world.send(group, anna, "/measure 1 fällig 1.12.")
        world.send(group, anna, "/measure 1 schritt 3")
        world.send(group, anna, "/measure 1 status läuft")
        world.send(group, anna, "/measure 2 owner", reply_to=helper.message_id)
        world.send(group, anna, "/measure 3 verantwortlich Carla Meier")
        world.send(group, anna, "/measure 3 due morgen")
        await bot.deliver()
        answers = _since(world, group, before)
        assert answers == [
            "Nr. 1: verantwortlich ist jetzt @anna_mueller.",
            "Nr. 1: fällig am 01.12.2026.",
            f"Nr. 1: dient jetzt Schritt 3 ({CATALOGUE['de'].action_steps[2].title}).",
            "Nr. 1: Status „läuft“.",
            "Nr. 2: verantwortlich ist jetzt Ben.",
            "Nr. 3: verantwortlich ist jetzt Carla Meier.",
            "Nr. 3: fällig am 27.11.2026.",
        ]
        measures = _measures(bot)
        first = measures[1]
        assert (first.owner_username, first.due_on, first.step, first.status) == (
            "anna_mueller",
            date(2026, 12, 1),
            3,
            "doing",
        )
        assert (measures[2].owner_name, measures[2].owner_id) == ("Ben", ben.id)

        # bad input: a short answer saying what works, nothing changed
        before = len(world.bot_messages(group))
        for bad in (
            "/measure 1 due 31.02.",
            "/measure 1 due 25.11.2026",
            "/measure 1 due bald",
            "/measure 1 step 8",
            "/measure 1 status bald",
            "/measure 999 status offen",
            "/measure 1 farbe rot",
            "/measure 1 owner @x",
            "/measure",
        ):
            world.send(group, anna, bad)
        world.send(group, ben, "/measure 1 status erledigt")  # not a moderator
        await bot.deliver()
        answers = _since(world, group, before)
        assert len(answers) == 10
        assert "verstehe ich nicht als Datum" in answers[0]
        assert "1.12.2026" in answers[0]
        assert "in der Vergangenheit" in answers[1]
        assert "„bald“ verstehe ich nicht als Datum" in answers[2]
        assert "Schritte 1 bis 7" in answers[3]
        assert "offen, läuft, erledigt" in answers[4]
        assert f"Es gibt die Nummern 1–{len(soll)}" in answers[5]
        assert "owner (verantwortlich), due (fällig)" in answers[6]
        assert "kein Name und kein Telegram-Benutzername" in answers[7]
        assert answers[8].startswith("So geht's")
        assert "Moderatoren" in answers[9]
        assert _measures(bot)[1] == first

        # buttons: a non-moderator's tap is refused, a moderator's tap moves the status on
        world.send(group, ben, "/plan")
        await bot.deliver()
        plan = _last(world, group)
        tap = _button(plan, "Nr. 1: läuft → erledigt")
        refused = world.press(group, ben, plan, tap)
        await bot.deliver()
        answer = world.answer_of(refused)
        assert answer is not None
        assert answer["show_alert"]
        assert _measures(bot)[1].status == "doing"
        pressed = world.press(group, anna, plan, tap)
        await bot.deliver()
        answer = world.answer_of(pressed)
        assert answer == {"text": "Nr. 1 ist jetzt „erledigt“.", "show_alert": False}
        assert _measures(bot)[1].status == "done"
        assert plan.edits == 1
        assert _button(plan, "Nr. 1: erledigt → offen")
        assert "1 erledigt" in plain(plan.text or "")

        # /status counts the plan
        world.send(group, ben, "/status")
        await bot.deliver()
        assert f"Maßnahmenplan: {len(soll)} Maßnahmen" in plain(_last(world, group).text or "")


async def test_edits_and_undo_follow_and_numbers_are_never_reused(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(201, "Anna")
    ben = world.person(202, "Ben")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Plan")
        first = world.send(group, ben, "/soll 3 Maße einmal erfassen")
        world.send(group, ben, "/soll 5 Marke schärfen")
        world.send(group, ben, "/plan")
        await bot.deliver()
        shown = plain(_last(world, group).text or "")
        assert "Nr. 1" in shown
        assert "Nr. 2" in shown
        assert "Maße einmal erfassen" in shown

        world.edit(group, first, "/soll 3 Maße digital erfassen")
        world.send(group, ben, "/plan")
        await bot.deliver()
        shown = plain(_last(world, group).text or "")
        assert "Maße digital erfassen" in shown
        assert "einmal" not in shown

        world.send(group, ben, "/undo")  # takes back "Marke schärfen", measure 2
        world.send(group, ben, "/soll 7 Varianten reduzieren")
        world.send(group, ben, "/plan")
        world.send(group, anna, "/measure 2 status offen")
        await bot.deliver()
        texts = _since(world, group, len(world.bot_messages(group)) - 2)
        assert "Marke schärfen" not in texts[0]
        assert "Nr. 3" in texts[0]
        assert "Varianten reduzieren" in texts[0]
        assert "2 Maßnahmen" in texts[0]
        assert "Nr. 2 gibt es nicht" in texts[1]
        assert "Nummern 1, 3" in texts[1]
        measures = _measures(bot)
        assert sorted(measures) == [1, 2, 3]
        assert measures[2].gone_at is not None

        # an edit that makes the Soll an Ist entry takes its measure away, and back again
        world.edit(group, first, "/ist 3 Maße digital erfassen")
        await bot.deliver()
        world.send(group, ben, "/plan")
        await bot.deliver()
        assert "Maße digital" not in plain(_last(world, group).text or "")
        world.edit(group, first, "/soll 3 Maße digital erfassen")
        world.send(group, ben, "/plan")
        await bot.deliver()
        assert "Nr. 1 · 3. Sticky Information" in plain(_last(world, group).text or "")


async def test_plan_on_a_closed_board(emulator: BotApiEmulator, tmp_path: Path) -> None:
    world = emulator.world
    anna = world.person(301, "Anna")
    ben = world.person(302, "Ben")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Geschlossen")
        world.send(group, ben, "/soll 1 Kundenwünsche erfassen")
        await bot.deliver()
        with Session(bot.engine) as session:
            board = session.exec(select(Board)).one()
            board_store.close_board(session, board=board)
            session.commit()
        before = len(world.bot_messages(group))
        world.send(group, ben, "/plan")
        world.send(group, anna, "/measure 1 owner Ben")
        await bot.deliver()
        texts = _since(world, group, before)
        assert "Kundenwünsche erfassen" in texts[0]
        assert texts[1] == "Nr. 1: verantwortlich ist jetzt Ben."
        plan = world.bot_messages(group)[before]
        drawn_before = _button(plan, "Nr. 1: offen → läuft")
        query = world.press(group, anna, plan, drawn_before)
        await bot.deliver()
        answer = world.answer_of(query)
        assert answer is not None
        assert not answer["show_alert"]
        assert _measures(bot)[1].status == "doing"
        # the same old button once more, after /measure set it done: nothing goes back
        world.send(group, anna, "/measure 1 status erledigt")
        await bot.deliver()
        stale = world.forge_press(group, anna, plan.message_id, drawn_before)
        await bot.deliver()
        assert _measures(bot)[1].status == "done"
        # its data is no longer on the plan's keyboard (redrawn after the first press): refused
        assert "veraltet" in (world.answer_of(stale) or {}).get("text", "")


async def test_a_plan_of_sixty_measures_pages_in_place(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(401, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Sechzig")
        for number in range(1, 61):
            filler = "lang " * 150 if number % 3 == 0 else ""
            world.send(group, anna, f"/soll {number % 20 + 1} Maßnahme {number:02d} {filler}")
        await bot.deliver()
        world.send(group, anna, "/plan")
        await bot.deliver()
        plan = _last(world, group)
        first_page = plan.text
        shown = await _all_pages(bot, group, anna, plan)
        for number in range(1, 61):
            assert f"Maßnahme {number:02d}" in shown
        pages = int(shown.split("Seite 1 von ")[1].split()[0])
        assert pages >= 8
        assert plan.edits == pages - 1
        plans = [t for t in world.bot_texts(group) if "Maßnahmenplan" in t]
        assert len(plans) == 1  # one plan message, edited in place
        query = world.press_label(group, anna, plan, "◀")
        await bot.deliver()
        assert world.answer_of(query) == {
            "text": f"Seite {pages - 1} von {pages}",
            "show_alert": False,
        }
        assert plan.text != first_page
        # a status tap on a later page keeps that page
        tap = _button(plan, "Nr. ")
        world.press(group, anna, plan, tap)
        await bot.deliver()
        assert f"Seite {pages - 1} von {pages}" in plain(plan.text or "")


async def _board_with_due_measures(
    bot: InProcessBot, world: World, group: Chat, anna: Person
) -> None:
    world.send(group, anna, "/newboard Nachfassen")
    world.send(group, anna, "/soll 1 Kundenbefragung starten")
    world.send(group, anna, "/soll 2 Newsletter personalisieren")
    world.send(group, anna, "/soll 3 Auswahlhilfe bauen")
    world.send(group, anna, "/measure 1 due 28.11.")
    world.send(group, anna, "/measure 2 due 2026-11-28")
    world.send(group, anna, "/measure 2 owner @ben_b")
    world.send(group, anna, "/measure 3 due +1w")
    await bot.deliver()


def _follow_ups(world: World, group: Chat) -> list[str]:
    return [plain(t) for t in world.bot_texts(group) if "Morgen fällig" in t]


async def test_the_day_before_note_arrives_once_also_after_a_restart(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(501, "Anna")
    group = world.group("Team", owner=anna)
    eve = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # Friday 09:00 in Berlin
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _board_with_due_measures(bot, world, group, anna)
        assert await followup_sweep(bot.context, eve.replace(hour=7, minute=59)) == 0
        assert await followup_sweep(bot.context, eve.replace(second=30)) == 1
        assert await followup_sweep(bot.context, eve.replace(minute=5)) == 0
    notes = _follow_ups(world, group)
    assert len(notes) == 1
    assert "28.11.2026" in notes[0]
    assert "Nr. 1" in notes[0]
    assert "Nr. 2" in notes[0]
    assert "@ben_b" in notes[0]
    assert "Nr. 3" not in notes[0]
    async with inprocess_bot(emulator, tmp_path) as restarted:
        assert await followup_sweep(restarted.context, eve.replace(minute=10)) == 0
        # the week after: measure 3's note, once
        week = datetime(2026, 12, 2, 8, 1, tzinfo=UTC)
        assert await followup_sweep(restarted.context, week) == 1
        assert await followup_sweep(restarted.context, week) == 0
    notes = _follow_ups(world, group)
    assert len(notes) == 2
    assert "Auswahlhilfe bauen" in notes[1]


async def test_a_done_measure_and_a_late_sweep_send_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(601, "Anna")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        await _board_with_due_measures(bot, world, group, anna)
        world.send(group, anna, "/measure 1 status erledigt")
        world.send(group, anna, "/measure 2 status done")
        await bot.deliver()
        assert await followup_sweep(bot.context, datetime(2026, 11, 27, 8, 1, tzinfo=UTC)) == 0
        # more than 12 hours after 09:00 the note is not sent any more
        late = datetime(2026, 12, 2, 20, 1, tzinfo=UTC)
        assert await followup_sweep(bot.context, late) == 0
    assert _follow_ups(world, group) == []


async def test_two_applications_sweeping_send_one_note(
    emulator: BotApiEmulator, tmp_path: Path, postgres_url: str
) -> None:
    world = emulator.world
    anna = world.person(701, "Anna")
    group = world.group("Team", owner=anna)
    eve = datetime(2026, 11, 27, 8, 0, 30, tzinfo=UTC)
    async with (
        inprocess_bot(emulator, tmp_path / "a", database_url=postgres_url) as one,
        inprocess_bot(emulator, tmp_path / "b", database_url=postgres_url) as two,
    ):
        # the board and its Soll entries are set up through the store
        with Session(one.engine, expire_on_commit=False) as session:
            board = board_store.create_board(
                session,
                chat_id=group.id,
                thread_id=0,
                title="Zwei",
                language="de",
                created_by=anna.id,
                timezone="Europe/Berlin",
                next_reminder_at=None,
            )
            for message_id, text in ((1, "Kundenbefragung starten"), (2, "Newsletter")):
                entry_store.add_entry(
                    session,
                    board=board_store.board_head(board),
                    point=message_id,
                    kind=Kind.SOLL,
                    text=text,
                    author_id=anna.id,
                    author_name="Anna",
                    chat_id=group.id,
                    message_id=message_id,
                )
            plan_store.sync_measures(session, board=board, proposed_steps={})
            for number in (1, 2):
                measure = plan_store.measure_by_number(session, board=board, number=number)
                assert measure is not None
                plan_store.set_measure_due(session, measure=measure, due=date(2026, 11, 28))
            session.commit()
        for attempt in range(3):
            sent = await asyncio.gather(
                followup_sweep(one.context, eve),
                followup_sweep(two.context, eve),
                followup_sweep(one.context, eve),
                followup_sweep(two.context, eve),
            )
            assert sum(sent) == (1 if attempt == 0 else 0)
    notes = _follow_ups(world, group)
    assert len(notes) == 1
    assert "Kundenbefragung starten" in notes[0]
    assert "Newsletter" in notes[0]


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
