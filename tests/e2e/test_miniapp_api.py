"""The Mini App's API against the bot serving in a thread and the emulator: who gets in (and
who gets 401/403/404 revealing nothing), and entries from the app under the chat's rules."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.model import BOT_USERNAME, Chat, Person
from tests.support.harness import BotThread, wait_until
from tests.support.miniapp_tools import (
    OTHER_TOKEN,
    SHORT_NAME,
    app_buttons,
    call,
    init_data,
    miniapp_env,
    opened_board_token,
    status_message,
    token_of,
)
from tests.support.ports import free_port
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e


@dataclass
class Scene:
    world: World
    bot: BotThread
    port: int
    group: Chat
    team: Team
    anna: Person  # the group's owner, created the board
    ben: Person  # a member (he wrote in the group)
    carla: Person  # not in the group
    token: str

    def path(self, tail: str = "") -> str:
        return f"/api/boards/{self.token}{tail}"


@pytest.fixture
def scene(emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path) -> Iterator[Scene]:
    world = emulator.world
    port = free_port()
    env = {k.lower(): v for k, v in miniapp_env(port).items()}
    bot = BotThread(emulator, sqlite_url, tmp_path, **env)
    anna = world.person(301, "Anna")
    ben = world.person(302, "Ben", language_code="en")
    carla = world.person(303, "Carla")
    group = world.group("Strategie", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    try:
        token = opened_board_token(team, anna, ben)
        yield Scene(world, bot, port, group, team, anna, ben, carla, token)
    finally:
        bot.stop()
    assert bot.tracebacks_while_running() == []


def test_status_message_board_and_status_carry_a_link_with_an_opaque_token(scene: Scene) -> None:
    [button] = app_buttons(status_message(scene.world, scene.group))
    assert button["url"] == f"https://t.me/{BOT_USERNAME}/{SHORT_NAME}?startapp={scene.token}"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", scene.token)  # ≥ 128 bits, URL-safe
    status = [m for m in scene.world.bot_messages(scene.group) if m.reply_markup][-1]
    assert [token_of(b) for b in app_buttons(status)] == [scene.token]
    scene.team.say(scene.ben, "/board")
    wait_until(
        lambda: any(
            app_buttons(m) for m in scene.world.bot_messages(scene.group)[-3:] if m.reply_markup
        ),
        what="the board's link",
    )
    assert scene.world.refusals() == []


def test_init_data_is_checked_and_refusals_reveal_nothing(scene: Scene) -> None:
    port, path = scene.port, scene.path()
    good = init_data(scene.ben, scene.token)
    assert call(port, "GET", path, good).status_code == 200
    forged = good.replace("Ben", "Bob")
    stale = init_data(scene.ben, scene.token, age=25 * 3600)
    foreign = init_data(scene.ben, scene.token, signed_by=OTHER_TOKEN)
    unsigned = "&".join(p for p in good.split("&") if not p.startswith("hash="))
    for refused in (None, "", forged, stale, foreign, unsigned, "garbage"):
        answer = call(port, "GET", path, refused)
        assert answer.status_code == 401, refused
        assert answer.json() == {"error": "unauthorized"}
    # a person outside the group and a token that names no board: the same 404
    outsider = call(port, "GET", path, init_data(scene.carla, scene.token))
    unknown_token = "A" * len(scene.token)
    unknown = call(port, "GET", f"/api/boards/{unknown_token}", init_data(scene.ben, unknown_token))
    board_number = call(port, "GET", "/api/boards/1", init_data(scene.ben, "1"))
    for answer in (outsider, unknown, board_number):
        assert answer.status_code == 404
        assert answer.json() == {"error": "not found"}
    # writes are refused the same way
    assert call(port, "POST", scene.path("/entries"), forged, {}).status_code == 401
    assert (
        call(
            port,
            "POST",
            scene.path("/entries"),
            init_data(scene.carla, scene.token),
            {"point": 1, "kind": "ist", "text": "x"},
        ).status_code
        == 404
    )


def test_an_entry_from_the_app_follows_the_chat_rules(scene: Scene) -> None:
    port, world, team = scene.port, scene.world, scene.team
    ben = init_data(scene.ben, scene.token)
    posted_before = len(world.bot_messages(scene.group))
    added = call(
        port,
        "POST",
        scene.path("/entries"),
        ben,
        {"point": 3, "kind": "ist", "text": "<b>x</b> & y"},
    )
    assert added.status_code == 200, added.text
    board = call(port, "GET", scene.path(), ben).json()
    point = board["points"][2]
    assert (point["ist"], point["soll"]) == (1, 0)
    [entry] = point["entries"]
    assert (entry["text"], entry["author"], entry["mine"]) == ("<b>x</b> & y", "Ben", True)
    # not posted into the group one by one; the pinned status message is edited to show it,
    # and keeps its button
    status = status_message(world, scene.group)
    wait_until(lambda: "1/20 Punkte mit Ist" in (status.text or ""), what="the status edit")
    assert "Einträge: 1" in (status.text or "")
    assert [token_of(b) for b in app_buttons(status)] == [scene.token]
    assert len(world.bot_messages(scene.group)) == posted_before
    team.say(scene.anna, "/board")
    wait_until(
        lambda: any("&lt;b&gt;x&lt;/b&gt; &amp; y" in t for t in world.bot_texts(scene.group)),
        what="the app's entry on /board",
    )
    # too long, empty, unknown point: the chat's sentences or a plain 400
    too_long = call(
        port, "POST", scene.path("/entries"), ben, {"point": 3, "kind": "ist", "text": "x" * 4001}
    )
    assert too_long.status_code == 409
    assert "4001" in too_long.json()["error"]
    for body in (
        {"point": 21, "kind": "ist", "text": "x"},
        {"point": 3, "kind": "x", "text": "x"},
        {"point": 3, "kind": "ist", "text": "  "},
    ):
        assert call(port, "POST", scene.path("/entries"), ben, body).status_code == 400


def test_own_entries_are_edited_and_taken_back_others_not(scene: Scene) -> None:
    port = scene.port
    ben, anna = init_data(scene.ben, scene.token), init_data(scene.anna, scene.token)
    entry_id = call(
        port, "POST", scene.path("/entries"), ben, {"point": 2, "kind": "ist", "text": "alt"}
    ).json()["id"]
    assert (
        call(
            port,
            "PATCH",
            scene.path(f"/entries/{entry_id}"),
            anna,
            {"text": "fremd", "kind": "ist"},
        ).status_code
        == 404
    )
    assert call(port, "DELETE", scene.path(f"/entries/{entry_id}"), anna).status_code == 404
    edited = call(
        port, "PATCH", scene.path(f"/entries/{entry_id}"), ben, {"text": "neu", "kind": "soll"}
    )
    assert edited.status_code == 200
    point = call(port, "GET", scene.path(), ben).json()["points"][1]
    assert [(e["text"], e["kind"], e["edited"]) for e in point["entries"]] == [
        ("neu", "soll", True)
    ]
    # a Soll entry is a measure of the plan
    plan = call(port, "GET", scene.path("/plan"), ben).json()
    assert [(m["number"], m["text"]) for m in plan["measures"]] == [(1, "neu")]
    assert call(port, "DELETE", scene.path(f"/entries/{entry_id}"), ben).status_code == 200
    assert call(port, "GET", scene.path(), ben).json()["points"][1]["entries"] == []
    assert call(port, "GET", scene.path("/plan"), ben).json()["measures"] == []


def test_moderators_shape_the_plan_members_may_not(scene: Scene) -> None:
    port = scene.port
    ben, anna = init_data(scene.ben, scene.token), init_data(scene.anna, scene.token)
    call(port, "POST", scene.path("/entries"), ben, {"point": 6, "kind": "soll", "text": "Shop"})
    assert call(port, "GET", scene.path("/plan"), ben).json()["measures"][0]["number"] == 1
    change = {"field": "status", "value": "doing"}
    refused = call(port, "PATCH", scene.path("/measures/1"), ben, change)
    assert refused.status_code == 403
    assert call(port, "PATCH", scene.path("/measures/1"), anna, change).status_code == 200
    owner = {"field": "owner", "value": "Ben"}
    assert call(port, "PATCH", scene.path("/measures/1"), anna, owner).status_code == 200
    past = call(
        port, "PATCH", scene.path("/measures/1"), anna, {"field": "due", "value": "1.1.2020"}
    )
    assert past.status_code == 409
    [measure] = call(port, "GET", scene.path("/plan"), ben).json()["measures"]
    assert (measure["status"], measure["owner"]) == ("doing", "Ben")
    assert call(port, "PATCH", scene.path("/measures/9"), anna, change).status_code == 404


def test_closed_board_and_rate_limit(scene: Scene) -> None:
    port = scene.port
    ben = init_data(scene.ben, scene.token)
    statuses = [
        call(
            port,
            "POST",
            scene.path("/entries"),
            ben,
            {"point": 1 + n % 20, "kind": "soll", "text": f"Idee {n}"},
        ).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    anna = init_data(scene.anna, scene.token)
    scene.team.say(scene.anna, "/close")
    close = scene.world.bot_messages(scene.group)[-1]
    scene.world.press_label(scene.group, scene.anna, close, "Schließen")
    wait_until(lambda: call(port, "GET", scene.path(), anna).json()["open"] is False, what="closed")
    refused = call(
        port, "POST", scene.path("/entries"), anna, {"point": 1, "kind": "ist", "text": "x"}
    )
    assert refused.status_code == 409
    assert "geschlossen" in refused.json()["error"]


def test_completion_from_the_app_is_announced_once(scene: Scene) -> None:
    port, world = scene.port, scene.world
    ben = init_data(scene.ben, scene.token)
    for number in range(1, 20):
        body = {"point": number, "kind": "ist", "text": f"Ist {number}"}
        assert call(port, "POST", scene.path("/entries"), ben, body).status_code == 200
    assert not any("vollständig" in t for t in world.bot_texts(scene.group))
    anna = init_data(scene.anna, scene.token)
    last = {"point": 20, "kind": "ist", "text": "Ist 20"}
    assert call(port, "POST", scene.path("/entries"), anna, last).status_code == 200
    assert call(port, "GET", scene.path(), ben).json()["complete"] is True
    wait_until(
        lambda: sum("vollständig" in t for t in world.bot_texts(scene.group)) == 1,
        what="the completion",
    )
    more = {"point": 20, "kind": "ist", "text": "noch eins"}
    assert call(port, "POST", scene.path("/entries"), anna, more).status_code == 200
    assert sum("vollständig" in t for t in world.bot_texts(scene.group)) == 1


def test_the_version_follows_changes_made_in_the_chat(scene: Scene) -> None:
    port, team = scene.port, scene.team
    ben = init_data(scene.ben, scene.token)
    before = call(port, "GET", scene.path("/version"), ben).json()["version"]
    assert call(port, "GET", scene.path("/version"), ben).json()["version"] == before
    team.entry(scene.anna, "Ist: aus dem Chat", reply_to=team.card(1).message_id)
    after = call(port, "GET", scene.path("/version"), ben).json()["version"]
    assert after != before
    assert call(port, "GET", scene.path(), ben).json()["version"] == after


def test_texts_in_the_person_s_language_and_the_page_s_headers(scene: Scene) -> None:
    port = scene.port
    english = call(port, "GET", scene.path("/model"), init_data(scene.ben, scene.token)).json()
    german = call(port, "GET", scene.path("/model"), init_data(scene.anna, scene.token)).json()
    assert (english["language"], german["language"]) == ("en", "de")
    assert english["texts"]["app_submit"] == "Add"
    assert german["texts"]["app_submit"] == "Eintragen"
    assert len(german["points"]) == 20
    assert len(german["areas"]) == 6
    page = call(port, "GET", "/app/", None)
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' https://telegram.org;" in policy
    assert "default-src 'none'" in policy
    assert call(port, "GET", "/app/../settings.py", None).status_code == 404
    assert call(port, "GET", "/app/nothing.js", None).status_code == 404


def test_boards_in_the_private_chat_opens_each_board_in_the_app(scene: Scene) -> None:
    world = scene.world
    private = world.private(scene.anna)
    world.send(private, scene.anna, "/boards")
    wait_until(lambda: any(app_buttons(m) for m in world.bot_messages(private)), what="/boards")
    [message] = [m for m in world.bot_messages(private) if app_buttons(m)]
    [button] = app_buttons(message)
    assert button["web_app"]["url"] == (
        f"https://127.0.0.1:{scene.port}/app/?startapp={scene.token}"
    )
    assert "Citybike" in button["text"]
    assert world.refusals() == []


def test_without_the_settings_nothing_changes(
    emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    world = emulator.world
    port = free_port()
    bot = BotThread(emulator, sqlite_url, tmp_path, health_port=str(port))
    anna = world.person(301, "Anna")
    group = world.group("Strategie", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start()
    try:
        team.say(anna, "/newboard Citybike")
        team.say(anna, "/area 1")
        team.wait_card(1)
        team.say(anna, "/status")
        wait_until(lambda: world.pinned.get(group.id), what="the pinned status message")
        assert not any(app_buttons(m) for m in world.bot_messages(group))
        assert call(port, "GET", "/healthz", None).status_code == 200
        assert call(port, "GET", "/app/", None).status_code == 404
        assert call(port, "GET", "/api/boards/x", None).status_code == 404
    finally:
        bot.stop()


def test_webhook_mode_serves_the_app_on_its_port(
    emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    world = emulator.world
    port = free_port()
    env = {
        "webhook_url": f"http://127.0.0.1:{port}",
        "webhook_listen": "127.0.0.1",
        "webhook_port": str(port),
        "webhook_secret": "geheim-123",
        "miniapp_url": f"https://127.0.0.1:{port}/app/",
        "miniapp_short_name": SHORT_NAME,
    }
    bot = BotThread(emulator, sqlite_url, tmp_path, **env)
    anna = world.person(301, "Anna")
    group = world.group("Haken", owner=anna, supergroup=True)
    team = Team(world, group)
    bot.start(ready_method="setWebhook")
    try:
        team.say(anna, "/newboard Webhook")
        team.say(anna, "/area 1")
        wait_until(lambda: world.pinned.get(group.id), what="the pinned status message")
        [button] = app_buttons(status_message(world, group))
        token = token_of(button)
        assert call(port, "GET", "/app/", None).status_code == 200
        board = call(port, "GET", f"/api/boards/{token}", init_data(anna, token))
        assert board.status_code == 200
        assert board.json()["title"] == "Webhook"
    finally:
        bot.stop()
    assert bot.tracebacks_while_running() == []


def test_a_deleted_board_takes_its_link_along(scene: Scene) -> None:
    port, world = scene.port, scene.world
    anna = init_data(scene.anna, scene.token)
    assert call(port, "GET", scene.path(), anna).status_code == 200
    scene.team.say(scene.anna, "/deleteboard")
    ask = world.bot_messages(scene.group)[-1]
    world.press_label(scene.group, scene.anna, ask, "Löschen")
    wait_until(lambda: "gelöscht" in (ask.text or ""), what="the board deleted")
    gone = call(port, "GET", scene.path(), anna)
    assert gone.status_code == 404
    assert gone.json() == {"error": "not found"}
    engine = create_engine(scene.bot.database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM board_link")).scalar_one() == 0
    engine.dispose()


def test_the_plan_tab_carries_the_votes(scene: Scene) -> None:
    """After `/vote` (SPEC §15) the app's plan gives each measure its votes, and a pick changes
    the version the page follows."""
    port, team, world = scene.port, scene.team, scene.world
    ben = init_data(scene.ben, scene.token)
    for said in ("Shop", "Konfigurator"):
        call(port, "POST", scene.path("/entries"), ben, {"point": 6, "kind": "soll", "text": said})
    plan = call(port, "GET", scene.path("/plan"), ben).json()
    assert plan["voted"] is False
    assert [m["votes"] for m in plan["measures"]] == [None, None]
    team.say(scene.anna, "/vote")
    [poll] = wait_until(lambda: world.polls_in(scene.group), what="the poll")
    before = call(port, "GET", scene.path("/version"), ben).json()["version"]
    world.answer_poll(scene.ben, poll, [1])  # Nr. 2
    wait_until(
        lambda: call(port, "GET", scene.path("/version"), ben).json()["version"] != before,
        what="the version after a pick",
    )
    plan = call(port, "GET", scene.path("/plan"), ben).json()
    assert plan["voted"] is True
    assert [(m["number"], m["votes"]) for m in plan["measures"]] == [(1, 0), (2, 1)]


def test_the_plan_s_order_by_votes_comes_from_the_server(scene: Scene) -> None:
    """The app orders by votes as `/plan stimmen` does: most votes first, ties in area order
    (not in the measures' numbers) — each measure carries its `rank` from the server."""
    port, team, world = scene.port, scene.team, scene.world
    ben = init_data(scene.ben, scene.token)
    # Nr. 1 on point 20 (Value Chain), Nr. 2 on point 6, Nr. 3 on point 1 (Kunde)
    for point, said in ((20, "Lieferkette"), (6, "Shop"), (1, "Umfrage")):
        call(
            port,
            "POST",
            scene.path("/entries"),
            ben,
            {"point": point, "kind": "soll", "text": said},
        )
    assert all(
        m["rank"] is None for m in call(port, "GET", scene.path("/plan"), ben).json()["measures"]
    )
    team.say(scene.anna, "/vote")
    [poll] = wait_until(lambda: world.polls_in(scene.group), what="the poll")
    [shop] = [i for i, option in enumerate(poll.options) if option.startswith("Nr. 2 ")]
    world.answer_poll(scene.ben, poll, [shop])
    wait_until(
        lambda: call(port, "GET", scene.path("/plan"), ben).json()["measures"][1]["votes"] == 1,
        what="the pick in the plan",
    )
    plan = call(port, "GET", scene.path("/plan"), ben).json()
    ranks = {m["number"]: m["rank"] for m in plan["measures"]}
    assert ranks == {2: 1, 3: 2, 1: 3}  # the tie of Nr. 1 and Nr. 3: point 1's area comes first


def test_an_http_miniapp_url_is_refused_at_start(tmp_path: Path) -> None:
    """Telegram opens Mini Apps only from https addresses: `python -m bot` refuses an http
    MINIAPP_URL with one `Cannot start:` sentence instead of offering a button that fails."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "MINIAPP_", "HTTP_", "BOT_"))
    }
    env = {
        **clean,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "MINIAPP_SHORT_NAME": SHORT_NAME,
    }
    for url, refused in (
        ("http://bot.example.com/app/", True),
        ("https://bot.example.com/app/", False),
        ("http://127.0.0.1:8099/app/", False),  # on this computer only: the playground's
    ):
        # a settings check only: an accepted URL gets as far as the (unreachable) Telegram
        result = subprocess.run(
            [sys.executable, "-c", "from bot.settings import load_settings; load_settings()"]
            if not refused
            else [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env={**env, "MINIAPP_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if not refused:
            assert result.returncode == 0, result.stderr
            continue
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0] == (
            "Cannot start: MINIAPP_URL must be an https URL without query or fragment "
            "(http only on 127.0.0.1 or localhost)."
        )
        assert "Traceback" not in result.stdout + result.stderr


def test_the_app_s_posts_to_the_group_go_through_the_stored_outbox(scene: Scene) -> None:
    """A write of the app that makes the group hear of it (the board complete) stores the posts
    with the write, like an update does (SPEC §12): a crash after the write still sends them."""
    port, world = scene.port, scene.world
    ben = init_data(scene.ben, scene.token)
    for number in range(1, 21):
        body = {"point": number, "kind": "ist", "text": f"Ist {number}"}
        assert call(port, "POST", scene.path("/entries"), ben, body).status_code == 200
    wait_until(
        lambda: any("vollständig" in t for t in world.bot_texts(scene.group)),
        what="the completion",
    )
    engine = create_engine(scene.bot.database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                text(
                    "select kind, outcome from outbox_send"
                    " where chat_id = :chat and update_id is null"
                ),
                {"chat": scene.group.id},
            ).all()
    finally:
        engine.dispose()
    assert stored  # the completion's notice and the board
    assert {outcome for _, outcome in stored} == {"sent"}
