"""Issue 21's contract points through the real update path (in-process, against the emulator):
/next and `Weiter ▶` find the next point without an Ist entry, replies to the bot's other
messages are conversation, the add-to-group button welcomes once, the digest goes on after
completion, earlier boards stay readable, /undo deletes, /boards asks Telegram sparingly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.handlers import reminders
from bot.playground.emulator import BotApiEmulator
from bot.playground.emulator.model import Chat, StoredMessage
from bot.playground.emulator.world import World
from bot.store.tables import Board, Entry, InboxUpdate
from tests.support.inprocess import InProcessBot, inprocess_bot
from tests.support.opened import InProcessBoard
from tests.support.scenario import plain


async def test_next_brings_up_the_gap_in_the_current_area_wrapping_round(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, bot = scene.world, scene.group, scene.anna, scene.bot
    for point in range(1, 21):
        if point != 18:
            world.send(group, anna, f"/ist {point} Eintrag {point}")
    world.send(group, anna, "/point 20")
    await bot.deliver()
    before = len(world.bot_messages(group))
    world.send(group, anna, "/next")
    await bot.deliver()
    new = [plain(t) for t in world.bot_texts(group)[before:]]
    assert any(t.startswith("18. Datenaustausch") for t in new), new
    assert not any("Alle Punkte haben einen Ist-Eintrag" in t for t in new), new
    # within the area `Weiter ▶` goes on point by point, as /next does (SPEC §4)
    card = next(m for m in reversed(world.bot_messages(group)) if m.reply_markup)
    world.press_label(group, anna, card, "Weiter")
    await bot.deliver()
    texts = [plain(t) for t in world.bot_texts(group)]
    assert texts[-1].startswith("19. Individualisierung"), texts[-1]


async def test_next_never_calls_an_area_with_gaps_done(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, bot = scene.world, scene.group, scene.anna, scene.bot
    for point in (2, 3, 4, 5, 7):
        world.send(group, anna, f"/ist {point} Eintrag {point}")
    await bot.deliver()
    # no area opened yet: /next opens the first gap's area without calling any area filled
    before = len(world.bot_messages(group))
    world.send(group, anna, "/next")
    await bot.deliver()
    new = [plain(t) for t in world.bot_texts(group)[before:]]
    assert not any("überall einen Ist-Eintrag" in t for t in new), new
    assert any("Weiter mit Bereich 1: Kunde" in t for t in new), new
    assert new[-1].startswith("1. Kundenbedürfnisse"), new
    world.send(group, anna, "/point 4")
    await bot.deliver()
    before = len(world.bot_messages(group))
    card = world.bot_messages(group)[-1]
    world.press_label(group, anna, card, "Weiter")
    await bot.deliver()
    new = [plain(t) for t in world.bot_texts(group)[before:]]
    assert not any("abgeschlossen" in t or "überall einen Ist-Eintrag" in t for t in new), new
    assert any("Weiter mit Bereich 3: Produkt" in t for t in new), new
    # point 5 (area 2) has its Ist entry: the next gap after point 4 is point 6
    assert new[-1].startswith("6. Konfiguration"), new
    # once area 1 is filled and the move is on, the area is named as filled
    world.send(group, anna, "/ist 1 Eintrag 1")
    world.send(group, anna, "/point 4")
    await bot.deliver()
    before = len(world.bot_messages(group))
    world.send(group, anna, "/next")
    await bot.deliver()
    new = [plain(t) for t in world.bot_texts(group)[before:]]
    assert any("Bereich Kunde hat jetzt überall einen Ist-Eintrag" in t for t in new), new


async def test_a_reply_to_the_bot_s_other_messages_is_conversation(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, ben, bot = scene.world, scene.group, scene.anna, scene.ben, scene.bot
    world.send(group, anna, "/review")
    await bot.deliver()
    review = world.bot_messages(group)[-1]
    before = len(world.bot_messages(group))
    thanks = world.send(group, ben, "Danke!", reply_to=review.message_id)
    world.send(group, ben, "Gute Übersicht, machen wir so.", reply_to=review.message_id)
    await bot.deliver()
    assert len(world.bot_messages(group)) == before
    assert thanks.reactions == []
    world.send(group, ben, "Soll: alles online", reply_to=review.message_id)
    await bot.deliver()
    texts = [plain(t) for t in world.bot_texts(group)[before:]]
    assert len(texts) == 1
    assert "als Antwort auf eine Karte" in texts[0]
    with Session(bot.engine) as session:
        assert session.exec(select(Entry)).all() == []


def _bot_message_with(world: World, group: Chat, text: str) -> StoredMessage:
    return next(m for m in reversed(world.bot_messages(group)) if text in plain(m.text or ""))


async def test_members_read_and_moderators_delete_earlier_boards_in_the_group(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2105, "Anna")
    ben = world.person(2106, "Ben")
    group = world.group("Team", owner=anna)
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Erstes Board")
        world.send(group, ben, "/ist 1 alte Erkenntnis")
        world.send(group, anna, "/close")
        await bot.deliver()
        world.press_label(group, anna, world.bot_messages(group)[-1], "Schließen")
        await bot.deliver()
        world.send(group, anna, "/newboard Zweites Board")
        await bot.deliver()
        # a member without rights lists both boards, the earlier one too
        world.send(group, ben, "/boards")
        await bot.deliver()
        listing = _bot_message_with(world, group, "Die Boards hier")
        shown = plain(listing.text or "")
        assert "Erstes Board · geschlossen" in shown
        assert "Zweites Board · offen" in shown
        before = len(world.bot_messages(group))
        world.press_label(group, ben, listing, "Status: Erstes")
        world.press_label(group, ben, listing, "Board: Erstes")
        world.press_label(group, ben, listing, "Dateien: Erstes")
        await bot.deliver()
        new = world.bot_messages(group)[before:]
        texts = "\n".join(plain(m.text or m.caption or "") for m in new)
        assert "Stand: Erstes Board" in texts
        assert "alte Erkenntnis" in texts  # the board's text
        assert any(m.kind == "photo" for m in new)
        names = [m.file_name or "" for m in new if m.kind == "document"]
        assert any(n.endswith(".pdf") for n in names)
        assert any(n.endswith(".json") for n in names)
        # a member may not delete; a moderator gets /deleteboard's question for that board
        refused = world.press_label(group, ben, listing, "Löschen: Erstes")
        await bot.deliver()
        assert "Moderator" in (world.answer_of(refused) or {}).get("text", "")
        world.press_label(group, anna, listing, "Löschen: Erstes")
        await bot.deliver()
        question = _bot_message_with(world, group, "Erstes Board")
        assert "löschen" in plain(question.text or "").lower()
        world.press_label(group, anna, question, "Löschen")
        await bot.deliver()
        with Session(bot.engine) as session:
            titles = [b.title for b in session.exec(select(Board)).all()]
            texts_left = [e.text for e in session.exec(select(Entry)).all()]
        assert titles == ["Zweites Board"]
        assert texts_left == []


async def test_undo_deletes_the_entry_s_text_and_author(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, ben, bot = scene.world, scene.group, scene.anna, scene.ben, scene.bot
    world.send(group, anna, "/soll 2 Erste Maßnahme")
    sent = world.send(group, ben, "/soll 3 vertraulicher Gedanke")
    world.send(group, anna, "/plan")  # the measures are numbered 1 and 2
    world.send(group, ben, "/undo")
    await bot.deliver()
    assert "vertraulicher Gedanke" in plain(world.bot_texts(group)[-1])  # the answer says it
    with Session(bot.engine) as session:  # nor is it kept in the stored updates
        stored = session.exec(select(InboxUpdate.payload)).all()
    assert len(stored) >= 4
    assert not [p for p in stored if "vertraulich" in p]
    world.edit(group, sent, "/soll 3 vertraulicher Gedanke, bearbeitet")
    world.send(group, anna, "/soll 4 Zweite Maßnahme")
    world.send(group, anna, "/plan")
    await bot.deliver()
    with Session(bot.engine) as session:
        entries = session.exec(select(Entry)).all()
    assert not [e for e in entries if "vertraulich" in e.text]
    assert not [e for e in entries if e.author_id == ben.id or e.author_name == "Ben"]
    # the plan's numbers stay: the undone measure keeps its number 2, the next one is 3
    plan = plain(world.bot_texts(group)[-1])
    assert "Nr. 1" in plan
    assert "Nr. 3" in plan
    assert "Nr. 2" not in plan


async def test_a_complete_board_with_open_measures_gets_the_plan_digest(
    opened_board_inprocess: InProcessBoard,
) -> None:
    scene = opened_board_inprocess
    world, group, anna, bot = scene.world, scene.group, scene.anna, scene.bot
    world.send(group, anna, "/soll 2 Chat einführen")
    world.send(group, anna, "/soll 5 Co-Design anbieten")
    world.send(group, anna, "/soll 6 Konfigurator bauen")
    for point in range(1, 21):
        world.send(group, anna, f"/ist {point} Stand {point}")
    await bot.deliver()
    soon = (datetime.now(UTC) + timedelta(days=3)).date()
    world.send(group, anna, "/plan")
    world.send(group, anna, f"/measure 1 due {soon.isoformat()}")
    world.send(group, anna, "/measure 2 status erledigt")
    await bot.deliver()
    digest = plain((await _digest(bot, group)).text or "")
    assert "Maßnahmenplan – Citybike" in digest
    assert "offen sind noch 2 Maßnahmen" in digest
    assert "Maßnahmen fällig in den nächsten 7 Tagen (1)" in digest
    assert "Chat einführen" in digest
    assert "Erledigt seit" in digest
    assert "Co-Design anbieten" in digest
    assert "Noch ohne Ist" not in digest  # no empty points, no card buttons
    # every measure done: the digest stops
    world.send(group, anna, "/measure 1 status erledigt")
    world.send(group, anna, "/measure 3 status erledigt")
    await bot.deliver()
    with Session(bot.engine) as session:
        board = session.exec(select(Board)).one()
        board.next_reminder_at = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()
    assert await reminders.sweep(bot.context, datetime.now(UTC)) == 0


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
    return digest


async def test_the_add_to_group_button_gets_one_short_welcome(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(2110, "Anna")
    group = world.group("Team", owner=anna)
    group.bot_member = False
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.add_bot(group, anna, start_param="board")
        await bot.deliver()
        # Telegram sent `/start@<bot> board` right after the bot joined
        assert any((m.text or "").startswith("/start@") for m in group.messages.values())
        texts = [plain(t) for t in world.bot_texts(group)]
        assert len(texts) == 1
        assert "Hallo!" in texts[0]
        assert "/newboard" in texts[0]
        # the link used again for the same group: no second welcome, no help
        world.send(group, anna, "/start@SechsClusterTestBot board")
        await bot.deliver()
        assert len(world.bot_texts(group)) == 1
        # a plain /start in the group still answers with the help
        world.send(group, anna, "/start")
        await bot.deliver()
        assert "/newboard" in plain(world.bot_texts(group)[-1])
        assert len(world.bot_texts(group)) == 2


async def test_the_plan_digest_of_a_complete_board_names_the_vote_s_top_measures(
    opened_board_inprocess: InProcessBoard,
) -> None:
    """Teams vote after the review, when the board is complete: the plan-only digest (SPEC §7)
    names the top open measures of the vote too (SPEC §15)."""
    scene = opened_board_inprocess
    world, group, anna, bot = scene.world, scene.group, scene.anna, scene.bot
    world.send(group, anna, "/soll 2 Chat einführen")
    world.send(group, anna, "/soll 6 Konfigurator bauen")
    for point in range(1, 21):
        world.send(group, anna, f"/ist {point} Stand {point}")
    world.send(group, anna, "/plan")
    await bot.deliver()
    world.send(group, anna, "/vote")
    await bot.deliver()
    [poll] = world.polls_in(group)
    world.answer_poll(anna, poll, [1])  # Nr. 2 – Konfigurator bauen
    await bot.deliver()
    digest = plain((await _digest(bot, group)).text or "")
    assert "Maßnahmenplan – Citybike" in digest
    top = digest[digest.index("Abstimmung") :]
    assert "Nr. 2" in top
    assert "Konfigurator bauen" in top
    assert "Chat einführen" not in top  # no votes, not among the top
