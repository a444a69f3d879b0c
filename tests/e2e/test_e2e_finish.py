"""End-to-end: review, close, reopen, export, example and demo through the real bot."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.playground.emulator import World
from tests.support.harness import REPO, BotThread, wait_until
from tests.support.opened import OpenedBoard
from tests.support.scenario import Team, plain

pytestmark = pytest.mark.e2e


def test_review_close_export_and_a_late_reply(world: World, bot: BotThread) -> None:
    anna = world.person(701, "Anna")
    ben = world.person(702, "Ben")
    group = world.group("Team", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/newboard Abschluss & <Test>")
    card = team.open_card(anna, 2)
    team.entry(ben, "Soll: persönliche Ansprache", reply_to=card.message_id)
    for point in range(1, 20):
        team.entry(ben, f"/ist {point} Stand {point}")
    before = team.bot_count()
    team.say(ben, "/review")  # the review is the team's: anyone may ask for it
    review = plain(team.texts_since(before)[0])
    assert "❌ 20. Kommunikation zu Partnern" in review
    assert (
        "❌ 7. Eine individuelle Wertschöpfungskette aufbauen – Punkte 10, 18, 20; fehlt: 20"
        in review
    )
    assert "⚠️ 1. Kundenbedürfnisse" in review
    assert "⚠️ 2. Kundenkommunikation" not in review
    assert all(command in review for command in ("/point n", "/plan", "/close"))  # SPEC §6

    before = team.bot_count()
    team.say(ben, "/export")
    wait_until(
        lambda: len([m for m in world.bot_messages(group)[before:] if m.kind == "document"]) == 4,
        what="export",
    )
    documents = [m for m in world.bot_messages(group)[before:] if m.kind == "document"]
    names = sorted(m.file_name or "" for m in documents)
    assert re.fullmatch(r"abschluss-test_\d{4}-\d{2}-\d{2}\.json", names[0])
    assert [name.rsplit(".", 1)[1] for name in names] == ["json", "md", "pdf", "png"]
    document = json.loads(
        next(m for m in documents if (m.file_name or "").endswith(".json")).file_bytes or b""
    )
    assert document["board"]["title"] == "Abschluss & <Test>"
    assert document["points"][1]["soll"][0]["text"] == "persönliche Ansprache"

    team.say(anna, "/close")  # asks first; the moderator's tap closes
    before = team.bot_count()
    world.press_label(group, anna, world.bot_messages(group)[-1], "Schließen")
    wait_until(
        lambda: len([m for m in world.bot_messages(group)[before:] if m.kind == "document"]) == 4,
        what="final files",
    )
    final = world.bot_messages(group)[before:]
    assert "geschlossen" in (final[0].text or "")
    assert any("Stand 19" in (m.text or "") for m in final)
    photo = next(m for m in final if m.kind == "photo")
    image = Image.open(io.BytesIO(photo.file_bytes or b""))
    assert image.format == "PNG"
    assert image.width == 1280
    reply = team.say(ben, "noch was", reply_to=card.message_id)
    assert "geschlossen" in team.last_text()
    assert reply.reactions == []
    team.say(ben, "/status")
    assert "Einträge: 20" in team.last_text()
    assert "Erinnerung: keine, das Board ist geschlossen" in team.last_text()  # none promised
    team.say(anna, "/close")
    assert "schon geschlossen" in team.last_text()
    team.say(ben, "/review")
    assert "/reopen" in team.last_text()  # a closed board's review points to /reopen
    assert "/close" not in team.last_text().split("\n")[-1]
    team.say(anna, "/reopen")
    assert "wieder offen" in team.last_text()
    team.entry(ben, "Ziel: jetzt doch", reply_to=card.message_id)
    assert world.refusals() == []
    assert world.violations == []


def test_example_and_language(world: World, bot: BotThread) -> None:
    anna = world.person(801, "Anna")
    group = world.group("Team", owner=anna)
    team = Team(world, group)
    bot.start()
    team.say(anna, "/example 5")
    assert "Co-Designer" in team.last_text()
    team.say(anna, "/example")
    assert "Zu welchem Punkt" in team.last_text()
    team.say(anna, "/newboard Sprache")
    team.open_card(anna, 8)
    team.say(anna, "/example")
    assert "3D-Druck" in team.last_text()
    assert "Eigene Illustration" in team.last_text()  # point 8's Ist is not the source's
    team.say(anna, "/lang en")
    assert "English" in team.last_text()
    team.say(anna, "/example")
    assert "3D printing" in team.last_text()
    team.open_card(anna, 9)
    assert (team.card(9).text or "").startswith("<b>9. Automation/CNC</b> · Area 3: Product\n")
    team.say(anna, "/status")
    assert "Still without Current" in team.last_text()
    team.say(anna, "/help")
    assert "/newboard" in team.last_text()
    assert world.refusals() == []


def test_demo_in_a_private_chat(world: World, bot: BotThread) -> None:
    carla = world.person(901, "Carla", language_code="en")
    private = world.private(carla)
    bot.start()
    world.send(private, carla, "/demo")
    wait_until(
        lambda: any(m.kind == "photo" for m in world.bot_messages(private)), what="demo image"
    )
    texts = world.bot_texts(private)
    assert "complete board" in texts[0]
    joined = plain("\n".join(texts))
    assert "20/20" in joined
    assert "⚠️" not in joined
    group = world.group("Team", owner=carla)
    world.send(group, carla, "/demo")
    wait_until(lambda: world.bot_texts(group), what="answer in group")
    assert (
        "privaten Chat" in world.bot_texts(group)[0]
    )  # a group without a board speaks BOT_LANGUAGE
    world.send(private, carla, "/newboard x")
    wait_until(lambda: len(world.bot_texts(private)) > len(texts), what="answer in private chat")
    assert "group" in world.bot_texts(private)[-1]
    assert world.refusals() == []


def test_offline_demo_and_export(opened_board: OpenedBoard, bot: BotThread, tmp_path: Path) -> None:
    scene = opened_board
    anna, team = scene.anna, scene.team
    team.entry(anna, "/ist 4 gespeichert <ok>")
    bot.stop()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update({"PYTHONPATH": str(REPO), "DATABASE_URL": bot.database_url})
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--board", "1", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.suffix for p in out.iterdir())
    assert names == [".html", ".json", ".md", ".pdf", ".png"]
    assert "gespeichert <ok>" in next(out.glob("*.md")).read_text(encoding="utf-8").replace(
        "\\<", "<"
    ).replace("\\>", ">")
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--board", "99", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1
    assert "No board with id 99" in missing.stderr
    demo = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(tmp_path / "demo")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0
    assert len(list((tmp_path / "demo").iterdir())) == 5  # .md .json .pdf .png .telegram.html
