"""A team of four fills a whole board, through the bot's application polling the emulator in a
thread (BotThread: the real update path, the real database)."""

from __future__ import annotations

import html
import re

import pytest

from bot.playground.emulator import World
from tests.support.harness import BotThread, wait_until
from tests.support.opened import OpenedBoard
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e

LONG = (
    "Sehr lange Ausführung über Farben, Rahmen & Größen <mit> Sonderzeichen. " * 55
)  # ~3,900 chars, just under the entry limit


def _all_text(team: Team, since: int) -> str:
    return "\n".join(team.texts_since(since))


def test_team_fills_whole_board(world: World, bot: BotThread) -> None:
    anna = world.person(101, "Anna")  # group owner
    ben = world.person(102, "Ben")
    carla = world.person(103, "Carla")
    deniz = world.person(104, "Deniz")
    group = world.group("Strategie", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()

    team.say(anna, "/newboard Citybike 2027")
    assert "Citybike 2027" in team.last_text()
    team.say(anna, "/area kunde")
    wait_until(lambda: team.has_card(1), what="card 1")
    assert (team.card(1).text or "").startswith("<b>1. Kundenbedürfnisse</b> · Bereich 1: Kunde\n")

    expected: dict[int, list[tuple[str, str, str]]] = {n: [] for n in range(1, 21)}
    people = [anna, ben, carla, deniz]
    # Area 1 via replies to cards, with prefixes, umlauts, emoji and HTML-like text.
    card1 = team.card(1)
    team.entry(ben, "Kunden wünschen <Rahmenhöhe> & Farben 🚲", reply_to=card1.message_id)
    expected[1].append(("ist", "Kunden wünschen <Rahmenhöhe> & Farben 🚲", "Ben"))
    team.entry(carla, "Soll: Konfigurator mit Größen S/M/L", reply_to=card1.message_id)
    expected[1].append(("soll", "Konfigurator mit Größen S/M/L", "Carla"))
    for number in (2, 3, 4):
        team.say(anna, "/next")
        card = team.wait_card(number)
        author = people[number % 4]
        team.entry(author, f"Ist: Punkt {number} heute", reply_to=card.message_id)
        expected[number].append(("ist", f"Punkt {number} heute", author.first_name))
        team.entry(
            people[(number + 1) % 4], f"ZIEL: Punkt {number} morgen", reply_to=card.message_id
        )
        expected[number].append(
            ("soll", f"Punkt {number} morgen", people[(number + 1) % 4].first_name)
        )
    # /next after the area's last point opens the next area with empty fields and says so
    before = team.bot_count()
    team.say(anna, "/next")
    wait_until(lambda: team.has_card(5), what="card 5")
    assert any("Differenzierung" in t for t in team.texts_since(before))

    # Points 5–19 through /ist and /soll with explicit numbers, one very long entry.
    for number in range(5, 20):
        author = people[number % 4]
        text = LONG.strip() if number == 7 else f"Stand {number}: Ä Ö Ü ß & <ok>"
        team.entry(author, f"/ist {number} {text}")
        expected[number].append(("ist", text, author.first_name))
        if number % 2:
            team.entry(author, f"/soll@SechsClusterTestBot {number} Ziel {number} ✅")
            expected[number].append(("soll", f"Ziel {number} ✅", author.first_name))

    # An edit changes an entry; an undo removes another.
    edited = team.entry(deniz, "/ist 18 Tippfehler")
    world.edit(group, edited, "/ist 18 Datenaustausch per Mail und Telefon")
    wait_until(
        lambda: (
            len(world.calls("setMessageReaction")) >= 2 and "Tippfehler" not in _stored_texts(bot)
        ),
        timeout=10,
        what="edit stored",
    )
    expected[18].append(("ist", "Datenaustausch per Mail und Telefon", "Deniz"))
    team.entry(ben, "/soll 20 wird zurückgenommen")
    before = team.bot_count()
    team.say(ben, "/undo")
    assert "wird zurückgenommen" in team.last_text()
    assert "20. Kommunikation zu Partnern" in html.unescape(team.last_text())

    # The last empty point: current point via /point, then /ist without a number.
    team.open_card(anna, 20)
    before = team.bot_count()
    team.entry(carla, "/ist Abstimmung mit Partnern nur per Telefon")
    expected[20].append(("ist", "Abstimmung mit Partnern nur per Telefon", "Carla"))
    wait_until(lambda: any("vollständig" in t for t in team.texts_since(before)), what="completion")
    wait_until(
        lambda: any(m.kind == "photo" for m in world.bot_messages(group)[before:]),
        what="board image",
    )
    board_text = _all_text(team, before)
    _assert_board_has_exactly(board_text, expected)
    for message in world.bot_messages(group):
        assert message.text is None or len(message.text) <= 4096
    assert world.violations == []
    assert world.refusals() == []


def _stored_texts(bot: BotThread) -> str:
    import sqlite3

    path = bot.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return "\n".join(
            row[0] for row in connection.execute("select text from entry where removed_at is null")
        )


def _assert_board_has_exactly(
    board_text: str, expected: dict[int, list[tuple[str, str, str]]]
) -> None:
    plain = html.unescape(re.sub(r"<[^>]+>", "", board_text))
    assert "⚠️ ohne Ist" not in plain
    assert "wird zurückgenommen" not in plain
    assert "Tippfehler" not in plain
    for entries in expected.values():
        for _, text, author in entries:
            if len(text) > 3000:
                # the long entry is split across messages: each of its words stays intact
                assert plain.count("Sonderzeichen.") >= 55
                continue
            assert f"{text} – {author}" in plain, text


def test_non_moderator_cannot_move_the_group(world: World, bot: BotThread) -> None:
    anna = world.person(201, "Anna")
    eve = world.person(202, "Eve")
    group = world.group("Team", owner=anna)
    team = Team(world, group)
    bot.start()
    team.say(eve, "/newboard Übernahme")
    assert "Moderator" in team.last_text()
    team.say(anna, "/newboard Echt")
    team.say(anna, "/area 3")
    wait_until(lambda: team.has_card(6), what="card 6")
    cards_before = len([m for m in world.bot_messages(group) if (m.text or "").startswith("<b>")])
    for command in ("/next", "/area 1", "/point 9", "/lang en", "/remind mo 10:00", "/close"):
        team.say(eve, command)
        assert "Moderator" in team.last_text(), command
    cards_after = len([m for m in world.bot_messages(group) if (m.text or "").startswith("<b>")])
    assert cards_after == cards_before
    team.say(eve, "/status")
    assert "Aktueller Punkt: 6. Konfiguration" in html.unescape(team.last_text())


def test_restart_keeps_everything(opened_board: OpenedBoard, world: World, bot: BotThread) -> None:
    scene = opened_board
    group, anna, ben, team = scene.group, scene.anna, scene.ben, scene.team
    card = team.open_card(anna, 3)
    team.entry(ben, "vor dem Neustart", reply_to=card.message_id)
    bot.restart()
    team.entry(ben, "nach dem Neustart", reply_to=card.message_id)
    team.entry(anna, "/soll 3 auch per Befehl")
    team.say(ben, "/board")
    wait_until(lambda: any("nach dem Neustart" in t for t in world.bot_texts(group)), what="board")
    board = "\n".join(world.bot_texts(group)[-3:])
    assert "vor dem Neustart" in board
    assert "nach dem Neustart" in board
    assert "auch per Befehl" in board
    assert world.refusals() == []


def test_every_bad_input_gets_an_answer_and_changes_nothing(world: World, bot: BotThread) -> None:
    anna = world.person(401, "Anna")
    ben = world.person(402, "Ben")
    group = world.group("Team", owner=anna)
    team = Team(world, group)
    bot.start()
    # commands that need an open board
    for command in (
        "/area 1",
        "/next",
        "/point 3",
        "/ist 3 x",
        "/soll x",
        "/undo",
        "/status",
        "/board",
    ):
        team.say(anna, command)
        assert "kein Board offen" in team.last_text(), command
    team.say(anna, "/newboard")
    assert "Titel" in team.last_text()
    team.say(anna, "/newboard " + "x" * 200)
    assert "zu lang" in team.last_text()
    team.say(anna, "/newboard Richtig")
    team.say(anna, "/newboard Zweites")
    assert "schon das Board" in team.last_text()
    cases = {
        "/area": "Welcher Bereich",
        "/area 7": "kenne ich nicht",
        "/area Marketing": "kenne ich nicht",
        "/point": "Welcher Punkt",
        "/point 0": "gibt es nicht",
        "/point 21": "gibt es nicht",
        "/point drei": "gibt es nicht",
        "/ist 21 Text": "gibt es nicht",
        "/ist 0 Text": "gibt es nicht",
        "/soll -3 Text": "gibt es nicht",
        "/ist": "So geht",
        "/ist 4": "So geht",
        "/ist Text ohne Punkt": "kein Punkt aktiv",
        "/lang fr": "Welche Sprache",
        "/undo": "keinen Eintrag",
        "/remind": "So geht",
        "/remind xy 09:00": "Wochentag",
        "/remind mo 25:00": "Uhrzeit",
        "/timezone Mars/Olympus": "Zeitzone",
        "/example 99": "gibt es nicht",
    }
    for command, answer in cases.items():
        team.say(anna, command)
        assert answer in html.unescape(team.last_text()), command
    card = team.open_card(anna, 2)
    team.say(ben, "Soll:   ", reply_to=card.message_id)
    assert "fehlt der Inhalt" in team.last_text()
    info = team.say(anna, "/status")
    # a reply to the bot's other messages is conversation; only one meant as an entry is told
    answers = team.bot_count()
    world.send(group, ben, "Danke!", reply_to=info.message_id + 1)
    team.say(ben, "Ist: läuft gut", reply_to=info.message_id + 1)
    assert team.bot_count() == answers + 1
    assert "als Antwort auf eine Karte" in team.last_text()
    sticker = world.send(group, ben, None, reply_to=card.message_id, sticker=True)
    wait_until(lambda: "Text auf" in team.last_text(), what="sticker answer")
    del sticker
    team.say(ben, "/status")
    assert "Einträge: 0" in team.last_text()
    assert world.violations == []
    assert world.refusals() == []


def test_caption_counts_and_closed_board_refuses(opened_board: OpenedBoard, world: World) -> None:
    scene = opened_board
    group, anna, ben, team = scene.group, scene.anna, scene.ben, scene.team
    card = team.open_card(anna, 6)
    photo = world.send(
        group,
        ben,
        None,
        caption="Soll: Konfigurator wie auf dem Foto",
        reply_to=card.message_id,
        photo=True,
    )
    wait_until(lambda: photo.reactions == ["👍"], what="photo entry")
    team.say(ben, "/status")
    assert "Einträge: 1" in team.last_text()
    team.say(anna, "/close")  # asks first; the moderator's tap closes
    world.press_label(group, anna, world.bot_messages(group)[-1], "Schließen")
    wait_until(
        lambda: len([m for m in world.bot_messages(group) if m.kind == "document"]) == 4,
        what="final files",
    )
    team.say(ben, "zu spät", reply_to=card.message_id)
    assert "geschlossen" in team.last_text()
    team.say(ben, "/ist 6 auch zu spät")
    assert "geschlossen" in team.last_text()
    team.say(ben, "/undo")
    assert "geschlossen" in team.last_text()
    team.say(anna, "/reopen")
    team.entry(ben, "wieder offen", reply_to=card.message_id)
    assert world.refusals() == []
