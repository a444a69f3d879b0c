"""The playground (SPEC §14): `./run-bot` without a token, `python -m bot playground`, the
stand-in's answers to the page, and the page itself in headless Chromium (Debian's), driven by
Playwright — the real bot process behind it, started as a newcomer starts it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, expect

from bot.miniapp.initdata import sign
from bot.playground.emulator.model import BOT_USERNAME, TOKEN
from bot.playground.scene import (
    PLAYGROUND_DATABASE_FILE,
    Scene,
    miniapp_start_token,
)
from bot.playground.web import build_web
from bot.texts import load_texts
from tests.support.browser import launched_chromium
from tests.support.harness import REPO, wait_until
from tests.support.ports import free_port

HOSTILE = '<img src=x onerror="window.__pwned = 1"> <b>fett?</b> &amp; <script>window.__pwned = 2</script>'


def _environment(**extra: str) -> dict[str, str]:
    """The environment of a newcomer: no token, no database, nothing of a deploy."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("TELEGRAM_", "DATABASE_", "WEBHOOK_", "HEALTH_", "PLAYGROUND_", "SECHS_CLUSTER_")
        )
    }
    env.pop("PYTHONPATH", None)
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _checkout(into: Path) -> Path:
    """A fresh checkout of this working tree (tracked and new files, as a clone would hold
    them once committed) with this tree's `.venv` lent to it, so no set-up runs again."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = REPO / name.decode()
        if source.is_file():
            target = into / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # ./run-bot sets .venv up again when pyproject.toml changed since it was installed; in the
    # copy that would point this tree's .venv at the copy, which the test then deletes
    stamp = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    if not (REPO / ".venv" / f".installed-{stamp}").exists():
        pytest.fail(".venv does not match pyproject.toml: run ./run-tests (it sets .venv up)")
    (into / ".venv").symlink_to(REPO / ".venv")
    return into


class Started:
    """A started `./run-bot` (or `python -m bot playground`) and the first line it printed."""

    def __init__(self, command: list[str], cwd: Path, port: int, **env: str) -> None:
        self.port = port
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=_environment(PLAYGROUND_PORT=str(port), **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        assert self.process.stderr is not None
        return self.process.stderr.read()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


# ---- the commands ----------------------------------------------------------------------------


def test_python_m_bot_without_token_still_stops(tmp_path: Path) -> None:
    """What deploys run never falls back to the playground."""
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**_environment(), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Cannot start: TELEGRAM_BOT_TOKEN is not set")
    assert "Playground" not in result.stdout
    assert not (tmp_path / PLAYGROUND_DATABASE_FILE).exists()


def test_python_m_bot_playground_starts_it_and_each_start_begins_empty(tmp_path: Path) -> None:
    """Started twice in one folder: the second start greets again, with a new database (the
    stand-in keeps no history, so a board of the first run would point at missing cards)."""
    for run in (1, 2):
        port = free_port()
        started = Started([sys.executable, "-m", "bot", "playground"], tmp_path, port)
        try:
            assert started.first_line.startswith(f"Playground: http://127.0.0.1:{port} ")
            assert "nothing reaches Telegram" in started.first_line

            def state(port: int = port) -> dict[str, Any]:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state") as answer:
                    return dict(json.load(answer))

            first = wait_until(
                lambda: (s := state())["ready"] and s["messages"] and s, 90, f"greeting {run}"
            )
            assert first["title"] == "Probelauf"
            assert [m["name"] for m in first["members"]] == ["Anna", "Ben", "Carla"]
            if run == 1:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/send",
                    data=json.dumps({"member": 0, "text": "/newboard Erster Lauf"}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                urllib.request.urlopen(request).close()
                wait_until(
                    lambda: "eröffnet" in json.dumps(state(), ensure_ascii=False), 30, "board 1"
                )
            else:
                assert "Erster Lauf" not in json.dumps(first)
        finally:
            stderr = started.stop()
        assert started.process.returncode == 0, stderr
        assert (tmp_path / PLAYGROUND_DATABASE_FILE).exists()
        assert not (tmp_path / "sechs-cluster-bot.sqlite3").exists()


def _listening(port: int) -> set[str]:
    """The local addresses (hex, as the kernel lists them) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_playground_listens_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    started = Started([sys.executable, "-m", "bot", "playground"], tmp_path, port)
    try:
        assert started.first_line.startswith("Playground:")
        assert _listening(port) == {"0100007F"}  # 127.0.0.1, nothing else
    finally:
        started.stop()


# ---- the stand-in's answers to the page ------------------------------------------------------


def test_init_data_is_signed_as_telegram_documents() -> None:
    """Telegram's published example algorithm: secret = HMAC("WebAppData", token)."""
    import hashlib
    import hmac
    from urllib.parse import parse_qsl

    signed = dict(parse_qsl(sign({"auth_date": "1", "user": '{"id":1}'}, TOKEN)))
    check = 'auth_date=1\nuser={"id":1}'
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert signed["hash"] == hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert miniapp_start_token(f"https://t.me/{BOT_USERNAME}/board?startapp=abc") == "abc"
    assert miniapp_start_token("https://t.me/OtherBot/board?startapp=abc") is None
    assert miniapp_start_token("https://example.org/board?startapp=abc") is None


class PageServer:
    """The page and its JSON on a thread, over a scene whose bot is played by the test."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.port = free_port()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        async def serve() -> None:
            runner = web.AppRunner(build_web(self.scene, load_texts()))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._stop = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

        asyncio.run(serve())

    def __enter__(self) -> PageServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    played = Scene(tmp_path / PLAYGROUND_DATABASE_FILE, ("Anna", "Ben", "Carla"))
    played.start(run_bot=False)
    yield played
    played.close()


def _bot_says(scene: Scene, **params: object) -> dict[str, Any]:
    """A call of the bot, as it reaches the stand-in (refusals are recorded, not raised)."""
    from bot.playground.emulator.model import ApiError

    try:
        return scene.world.handle(
            str(params.pop("method", "sendMessage")),
            {"chat_id": str(scene.group.id), **{k: str(v) for k, v in params.items()}},
            {},
        )
    except ApiError as exc:
        return {"ok": False, "description": exc.description}


def test_page_draws_telegram_html_safely_and_shows_refusals(scene: Scene, browser: Browser) -> None:
    """Bot HTML drawn with Telegram's tags only; a person's text never as HTML; a call
    Telegram would refuse shows as a red line; buttons, ForceReply and reactions as Telegram's."""
    import json

    with PageServer(scene) as server:
        page = browser.new_page(locale="de-DE")
        page.goto(f"http://127.0.0.1:{server.port}/")
        expect(page.locator("#banner-text")).to_have_text("Probelauf — nichts geht an Telegram")
        scene.say(1, HOSTILE)
        link = '<a href="https://example.org/x">Link</a>'
        markup = {"inline_keyboard": [[{"text": "✍️ Ist · 0", "callback_data": "ist:1"}]]}
        card = _bot_says(
            scene,
            text=f"<b>Fett</b> <i>kursiv</i> {link} &lt;b&gt;kein Tag&lt;/b&gt;",
            parse_mode="HTML",
            reply_markup=json.dumps(markup),
        )
        assert card["ok"]
        refused = _bot_says(scene, text="<b>offen", parse_mode="HTML")
        assert refused["ok"] is False
        hostile = page.locator(".message:not(.bot) .text").first
        expect(hostile).to_have_text(HOSTILE)
        assert page.locator(".message img").count() == 0
        assert page.evaluate("window.__pwned") is None
        bot_text = page.locator(".message.bot .text").last
        expect(bot_text.locator("b")).to_have_text("Fett")
        expect(bot_text.locator("i")).to_have_text("kursiv")
        expect(bot_text.locator("a")).to_have_attribute("href", "https://example.org/x")
        expect(bot_text).to_contain_text("<b>kein Tag</b>")
        expect(page.locator(".refusal")).to_contain_text("can't parse entities")
        expect(page.locator(".refusal")).to_contain_text("Telegram würde ablehnen")
        # the member switch: Ben taps the button, the stand-in delivers his callback query
        page.locator(".member .pick").nth(1).click()
        page.locator(".inline-button", has_text="Ist").click()
        wait_until(lambda: scene.world.queries, 10, "the press")
        [query] = scene.world.queries.values()
        assert (query.person_id, query.data) == (102, "ist:1")
        # a ForceReply prompt puts the reply into the input; the answer replies to it
        prompt_markup = {
            "force_reply": True,
            "selective": True,
            "input_field_placeholder": "Ist zu Punkt 1",
        }
        page.locator(".member .pick").nth(0).click()  # Anna looks on; the prompt is for Ben
        ben = '<a href="tg://user?id=102">Ben</a>'
        prompt = _bot_says(
            scene,
            text=f"{ben}, was ist heute?",
            parse_mode="HTML",
            reply_markup=json.dumps(prompt_markup),
        )
        prompt_id = prompt["result"]["message_id"]
        expect(page.locator("#replying")).to_be_visible()
        expect(page.locator("#input")).to_have_attribute("placeholder", "Ist zu Punkt 1")
        expect(page.locator(".member.current .name")).to_have_value("Ben")
        page.locator("#input").fill("Drei Größen")
        page.locator("#input").press("Enter")
        wait_until(
            lambda: any(m.text == "Drei Größen" for m in scene.group.messages.values()), 10, "reply"
        )
        [answer] = [m for m in scene.group.messages.values() if m.text == "Drei Größen"]
        assert (answer.reply_to, answer.sender and answer.sender.id) == (prompt_id, 102)
        _bot_says(
            scene,
            method="setMessageReaction",
            message_id=answer.message_id,
            reaction=json.dumps([{"type": "emoji", "emoji": "👍"}]),
        )
        expect(page.locator(f'[data-message-id="{answer.message_id}"] .reaction')).to_have_text(
            "👍"
        )
        # the pinned message at the top, and an edit shown in place
        status = _bot_says(scene, text="📊 <b>Probelauf</b> – 0/20", parse_mode="HTML")
        status_id = status["result"]["message_id"]
        _bot_says(scene, method="pinChatMessage", message_id=status_id)
        expect(page.locator("#pinned")).to_contain_text("Probelauf – 0/20")
        _bot_says(
            scene,
            method="editMessageText",
            message_id=status_id,
            text="📊 <b>Probelauf</b> – 1/20",
            parse_mode="HTML",
        )
        edited = page.locator(f'.message[data-message-id="{status_id}"]')
        expect(edited.locator(".text")).to_have_text("📊 Probelauf – 1/20")
        expect(edited.locator(".edited")).to_have_text("bearbeitet")
        expect(page.locator("#pinned")).to_contain_text("Probelauf – 1/20")
        assert page.locator(f'.message[data-message-id="{status_id}"]').count() == 1
        # the hook for the Mini App (§13): its link opens /app/ beside the chat, signed for Ben
        link = f"https://t.me/{BOT_USERNAME}/board?startapp=tok123"
        button = {"inline_keyboard": [[{"text": "Board öffnen", "url": link}]]}
        _bot_says(scene, text="Das Board", reply_markup=json.dumps(button))
        page.locator(".inline-button", has_text="Board öffnen").click()
        expect(page.locator("#miniapp")).to_be_visible()
        src = page.locator("#miniapp-frame").get_attribute("src") or ""
        prefix = f"http://127.0.0.1:{scene.miniapp_port}/app/#tgWebAppData="
        assert src.startswith(prefix)
        launch = dict(parse_qsl(unquote(src.removeprefix(prefix).split("&tgWebApp")[0])))
        assert launch["start_param"] == "tok123"
        assert json.loads(launch["user"])["id"] == 102
        assert sign({k: v for k, v in launch.items() if k != "hash"}, TOKEN) == (urlencode(launch))
        page.locator("#miniapp-close").click()
        expect(page.locator("#miniapp")).to_be_hidden()
        # names are editable, and the stand-in uses the new name
        name = page.locator(".member .name").nth(2)
        name.fill("Clara")
        name.press("Tab")
        wait_until(lambda: scene.members[2].first_name == "Clara", 10, "the new name")
        page.close()


def test_page_in_english_when_the_browser_prefers_it(scene: Scene, browser: Browser) -> None:
    with PageServer(scene) as server:
        page = browser.new_page(locale="en-GB")
        page.goto(f"http://127.0.0.1:{server.port}/")
        expect(page.locator("#banner-text")).to_have_text("Rehearsal — nothing goes to Telegram")
        expect(page.locator("#demo")).to_have_text("Demo team")
        page.close()


# ---- a newcomer's first run, in the browser -------------------------------------------------


def _type(page: Page, text: str) -> None:
    page.locator("#input").fill(text)
    page.locator("#input").press("Enter")


def test_run_bot_without_token_opens_the_playground(tmp_path: Path, browser: Browser) -> None:
    """`./run-bot` in a fresh checkout without a token: the page, a board, a card, a tap,
    an entry, and `/status` counting it — the real bot process behind the stand-in."""
    checkout = _checkout(tmp_path / "repo")
    port = free_port()
    started = Started(["./run-bot"], checkout, port)
    try:
        assert started.first_line.startswith(f"Playground: http://127.0.0.1:{port} ")
        assert "nothing reaches Telegram" in started.first_line
        page = browser.new_page(locale="de-DE", viewport={"width": 1280, "height": 860})
        page.goto(f"http://127.0.0.1:{port}/")
        expect(page.locator(".message.bot").first).to_contain_text("Hallo", timeout=90_000)
        _type(page, "/newboard Probelauf")
        expect(page.locator(".message.bot", has_text="ist eröffnet")).to_be_visible(timeout=20_000)
        _type(page, "/area 1")
        card = page.locator(".message.bot", has_text="1. Kundenbedürfnisse").last
        expect(card).to_be_visible(timeout=20_000)
        expect(page.locator("#pinned")).to_contain_text("0/20")
        page.locator(".member .pick").nth(1).click()  # Ben, a member
        card.locator(".inline-button", has_text="Ist").click()
        expect(page.locator("#replying")).to_be_visible(timeout=20_000)
        _type(page, "Wir liefern nur drei Standardgrößen.")
        entry = page.locator(".message.mine", has_text="drei Standardgrößen")
        expect(entry.locator(".reaction")).to_have_text("👍", timeout=20_000)
        if shot := os.environ.get("PLAYGROUND_SCREENSHOT"):  # the README's picture
            page.wait_for_timeout(1000)
            page.screenshot(path=shot)
        _type(page, "/status")
        status = page.locator(".message.bot", has_text="1 von 20 Punkten mit Ist").last
        expect(status).to_be_visible(timeout=20_000)
        assert page.locator(".refusal").count() == 0
        # the Mini App opens beside the chat from the status message's button (SPEC §13, §14)
        page.locator(".inline-button", has_text="Board öffnen").last.click()
        app = page.frame_locator("#miniapp-frame")
        expect(app.locator("#board [data-point]")).to_have_count(20, timeout=20_000)
        expect(app.locator('[data-point="1"]')).to_contain_text("Ist 1")
        page.locator("#miniapp-close").click()
        page.locator("#demo").click()
        expect(page.locator(".message:not(.mine)", has_text="eigenen Farbe")).to_be_visible()
        # start over: an empty playground again, its own database file new
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#reset").click()
        expect(page.locator(".message", has_text="Probelauf")).to_have_count(0, timeout=60_000)
        expect(page.locator(".message.bot").first).to_contain_text("Hallo", timeout=90_000)
        page.close()
    finally:
        stderr = started.stop()
    assert started.process.returncode == 0, stderr
    assert (checkout / PLAYGROUND_DATABASE_FILE).exists()
    assert not (checkout / "sechs-cluster-bot.sqlite3").exists()
    assert TOKEN not in stderr


def test_run_bot_with_a_token_runs_the_real_bot(tmp_path: Path) -> None:
    """With a token `./run-bot` is the bot itself (here: Telegram refuses the made-up token,
    which only the real start-up asks Telegram about)."""
    checkout = _checkout(tmp_path / "repo")
    from bot.playground.emulator import BotApiEmulator, World

    with BotApiEmulator(World()) as emulator:
        result = subprocess.run(
            ["./run-bot"],
            cwd=checkout,
            env=_environment(
                TELEGRAM_BOT_TOKEN="123456:" + "A" * 35,
                TELEGRAM_API_BASE_URL=emulator.base_url,
                PLAYGROUND_PORT=str(free_port()),
            ),
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert result.returncode != 0
    assert "Cannot start: Telegram refused the bot token" in result.stderr
    assert "Playground" not in result.stdout
    assert not (checkout / PLAYGROUND_DATABASE_FILE).exists()


def test_page_shows_images_files_and_polls(scene: Scene, browser: Browser) -> None:
    """An image is shown, a file offered for download, a poll drawn from the message's `poll`
    (the stand-in's message dict, as Telegram's) with answers the page sends to the stand-in."""
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (120, 80), "#3390ec").save(picture, format="PNG")
    chat = {"chat_id": str(scene.group.id)}
    photo = scene.world.handle("sendPhoto", chat, {"photo": ("board.png", picture.getvalue())})
    document = scene.world.handle(
        "sendDocument", {**chat, "caption": "Export"}, {"document": ("board.md", b"# Board\n")}
    )
    sent_poll = scene.world.handle(
        "sendPoll",
        {
            **chat,
            "question": "Welche Maßnahme zuerst?",
            "options": '[{"text": "Farben"}, {"text": "Größen"}, {"text": "Sattel"}]',
            "is_anonymous": "false",
            "allows_multiple_answers": "true",
        },
        {},
    )
    poll_message = sent_poll["result"]["message_id"]
    with PageServer(scene) as server:
        page = browser.new_page(locale="de-DE")
        page.goto(f"http://127.0.0.1:{server.port}/")
        photo_id = photo["result"]["message_id"]
        image = page.locator(f'.message[data-message-id="{photo_id}"] img.photo')
        expect(image).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth === 120", arg=image.element_handle()
        )
        document_id = document["result"]["message_id"]
        link = page.locator(f'.message[data-message-id="{document_id}"] a.document')
        expect(link).to_contain_text("board.md")
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "board.md"
        assert Path(download.value.path()).read_bytes() == b"# Board\n"
        drawn_poll = page.locator(f'.message[data-message-id="{poll_message}"] .poll')
        expect(drawn_poll.locator(".poll-question")).to_have_text("Welche Maßnahme zuerst?")
        expect(drawn_poll.locator(".poll-option")).to_have_count(3)
        expect(drawn_poll.locator(".poll-total")).to_have_text("0 Stimmen")
        # several answers: each tap adds an option to the member's choice, a second takes it back
        drawn_poll.locator(".poll-option", has_text="Größen").click()
        expect(drawn_poll.locator(".poll-option.chosen")).to_have_count(1)
        drawn_poll.locator(".poll-option", has_text="Sattel").click()
        expect(drawn_poll.locator(".poll-option.chosen")).to_have_count(2)
        drawn_poll.locator(".poll-option", has_text="Größen").click()
        expect(drawn_poll.locator(".poll-option.chosen")).to_have_count(1)
        expect(drawn_poll.locator(".poll-total")).to_have_text("1 Stimme")
        [state] = scene.world.polls_in(scene.group)
        assert state.choices == {scene.members[0].id: [2]}
        answers = [u["poll_answer"] for u in scene.world.updates if "poll_answer" in u]
        assert [a["option_ids"] for a in answers] == [[1], [1, 2], [2]]
        page.close()


def test_a_bot_that_cannot_start_is_shown_not_hidden(tmp_path: Path) -> None:
    """The bot's own refusal (here a bad BOT_LANGUAGE) reaches the page and the terminal."""
    port = free_port()
    command = [sys.executable, "-m", "bot", "playground"]
    started = Started(command, tmp_path, port, BOT_LANGUAGE="xx")
    try:

        def state() -> dict[str, Any]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state") as answer:
                return dict(json.load(answer))

        failed = wait_until(lambda: state().get("failed"), 90, "the failure")
        assert "Cannot start: BOT_LANGUAGE" in str(failed)
        time.sleep(1.5)  # the terminal's watcher looks twice a second
    finally:
        stderr = started.stop()
    assert "The bot stopped while starting" in stderr
