"""End-to-end (issue 25): an entry with U+2029 PARAGRAPH SEPARATOR, a first name with U+202E and
a group title with U+2067 go through the real bot process — `/board` still posts its image,
`/export`, the "export first" button of `/deleteboard`, `/close` and `python -m bot export`
still make every file, and no output leaves a bidi control open."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.playground.emulator import World
from bot.playground.emulator.telegram_html import check_html
from tests.support.harness import REPO, BotProcess, wait_until
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e

OPENERS = "\u202a\u202b\u202d\u202e\u2066\u2067\u2068"
CLOSERS = "\u202c\u2069"


def balanced(text: str) -> bool:
    """Every bidi control a line opens is closed on that line."""
    for line in text.split("\n"):
        depth = 0
        for char in line:
            depth += (char in OPENERS) - (char in CLOSERS)
            if depth < 0:
                return False
        if depth:
            return False
    return True


def documents(world: World, team: Team, before: int) -> list[str]:
    return sorted(
        (m.file_name or "").rsplit(".", 1)[1]
        for m in world.bot_messages(team.chat)[before:]
        if m.kind == "document"
    )


def test_a_paragraph_separator_and_bidi_controls_break_no_output(
    world: World, bot_process: BotProcess, tmp_path: Path
) -> None:
    anna = world.person(2571, "\u202eannA")
    ben = world.person(2572, "Ben")
    group = world.group("Team \u2067links", owner=anna, supergroup=True)
    team = Team(world, group)
    bot_process.start()
    team.say(anna, "/newboard Absatz \u202etest")
    team.entry(ben, "/ist 1 erste Zeile\u2029zweite Zeile\u2028dritte\x85vierte")
    team.entry(anna, "/soll 2 \u2066offen bis zum Ende")

    before = team.bot_count()
    team.say(ben, "/board")
    wait_until(
        lambda: any(m.kind == "photo" for m in world.bot_messages(group)[before:]), what="image"
    )

    team.say(anna, "/deleteboard")
    question = world.bot_messages(group)[-1]
    before = team.bot_count()
    world.press_label(group, ben, question, "exportieren")
    wait_until(
        lambda: documents(world, team, before) == ["json", "md", "pdf", "png"],
        what="the files before deleting",
    )
    world.press_label(group, anna, question, "Abbrechen")

    team.entry(ben, "/ist 3 noch eins")  # the files change, so /export is not held back
    before = team.bot_count()
    team.say(ben, "/export")
    wait_until(
        lambda: documents(world, team, before) == ["json", "md", "pdf", "png"], what="export"
    )
    files = {
        (m.file_name or "").rsplit(".", 1)[1]: m.file_bytes or b""
        for m in world.bot_messages(group)[before:]
        if m.kind == "document"
    }
    markdown = files["md"].decode("utf-8")
    for line in ("  > erste Zeile", "  > zweite Zeile", "  > dritte", "  > vierte"):
        assert line in markdown.split("\n")
    assert not any(ch in markdown for ch in "\u2028\u2029\x85")
    assert balanced(markdown)
    document = json.loads(files["json"])
    assert document["points"][0]["ist"][0]["text"] == "erste Zeile\nzweite Zeile\ndritte\nvierte"
    assert balanced(json.dumps(document, ensure_ascii=False))

    team.say(anna, "/close")
    before = team.bot_count()
    world.press_label(group, anna, world.bot_messages(group)[-1], "Schließen")
    wait_until(
        lambda: documents(world, team, before) == ["json", "md", "pdf", "png"],
        what="the final files",
    )
    wait_until(
        lambda: any(m.kind == "photo" for m in world.bot_messages(group)[before:]),
        what="the final image",
    )
    for message in world.bot_messages(group):
        shown = check_html(message.text or message.caption or "")
        assert balanced(shown), shown
        assert "schiefgegangen" not in shown
    assert world.refusals() == []
    bot_process.stop()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update({"PYTHONPATH": str(REPO), "DATABASE_URL": bot_process.database_url})
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--board", "1", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    written = sorted(out.iterdir())
    assert sorted(p.suffix for p in written) == [".html", ".json", ".md", ".pdf", ".png"]
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
