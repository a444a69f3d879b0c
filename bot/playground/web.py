"""The playground's web page and its JSON calls, on 127.0.0.1 only (aiohttp)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.playground.scene import PLAYGROUND_DATABASE_FILE, BotStartError, Scene
from bot.texts import Texts, load_texts

PAGE = Path(__file__).resolve().parent / "page"
# the emoji font the reports use: a browser without one (a bare server) still shows the bot's emoji
EMOJI_FONT = Path(__file__).resolve().parents[1] / "render" / "fonts" / "NotoEmoji.ttf"
LISTEN = "127.0.0.1"
SCENE_KEY = web.AppKey("scene", Scene)
TEXTS_KEY = web.AppKey("texts", Texts)
_PAGE_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "render.js": "text/javascript",
    "style.css": "text/css",
}
# the page's own sentences: every key of prompts/<lang>/playground.toml
_TEXT_PREFIX = "playground_"
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; frame-src http://127.0.0.1:*; "
    "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'"
)


class PlaygroundSettings(BaseSettings):
    """PLAYGROUND_PORT (default 8080), from the environment or `.env`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    playground_port: int = Field(default=8080, ge=1, le=65535)
    telegram_bot_token: str = ""


def token_is_set() -> bool:
    """A token in the environment or `.env` (then `./run-bot` runs the real bot)."""
    try:
        return bool(PlaygroundSettings().telegram_bot_token.strip())
    except ValidationError:
        return True  # a broken setting: the real start-up names it


def _page_language(request: web.Request) -> str:
    wanted = request.query.get("lang") or request.headers.get("Accept-Language") or ""
    return "en" if wanted.strip().lower().startswith("en") else "de"


async def _file(request: web.Request) -> web.StreamResponse:
    name = request.match_info.get("name") or "index.html"
    if name not in _PAGE_FILES:
        raise web.HTTPNotFound()
    return web.Response(
        body=(PAGE / name).read_bytes(),
        content_type=_PAGE_FILES[name],
        charset="utf-8",
        headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP},
    )


async def _emoji_font(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(EMOJI_FONT, headers={"Content-Type": "font/ttf"})


async def _texts(request: web.Request) -> web.Response:
    messages = request.app[TEXTS_KEY][_page_language(request)]
    texts = {
        key.removeprefix(_TEXT_PREFIX): value
        for key, value in messages.templates.items()
        if key.startswith(_TEXT_PREFIX)
    }
    return web.json_response({"language": messages.language, "texts": texts})


async def _state(request: web.Request) -> web.Response:
    scene = request.app[SCENE_KEY]
    try:
        ready = scene.ready()
    except BotStartError as exc:
        return web.json_response({"ready": False, "failed": str(exc)})
    return web.json_response({"ready": ready, **scene.state()})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text="JSON expected") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise web.HTTPBadRequest(text=f"{name}: a number expected")
    return value


def _str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"{name}: text expected")
    return value


def _refused(exc: Exception) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=str(exc))


async def _send(request: web.Request) -> web.Response:
    body = await _body(request)
    reply_to = body.get("reply_to")
    if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)):
        raise web.HTTPBadRequest(text="reply_to: a number expected")
    try:
        message_id = request.app[SCENE_KEY].say(
            _int(body, "member"), _str(body, "text")[:4096], reply_to
        )
    except (LookupError, ValueError) as exc:
        raise _refused(exc) from exc
    return web.json_response({"message_id": message_id})


async def _press(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        request.app[SCENE_KEY].press(
            _int(body, "member"), _int(body, "message_id"), _str(body, "data")
        )
    except LookupError as exc:
        raise _refused(exc) from exc
    return web.json_response({"ok": True})


async def _vote(request: web.Request) -> web.Response:
    body = await _body(request)
    options = body.get("options")
    if not isinstance(options, list) or not all(isinstance(o, int) for o in options):
        raise web.HTTPBadRequest(text="options: numbers expected")
    try:
        request.app[SCENE_KEY].answer_poll(_int(body, "member"), _int(body, "message_id"), options)
    except NotImplementedError as exc:
        raise web.HTTPNotImplemented(text=str(exc)) from exc
    except (LookupError, ValueError) as exc:
        raise _refused(exc) from exc
    return web.json_response({"ok": True})


async def _rename(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        request.app[SCENE_KEY].rename(_int(body, "member"), _str(body, "name"))
    except (LookupError, ValueError) as exc:
        raise _refused(exc) from exc
    return web.json_response({"ok": True})


async def _demo(request: web.Request) -> web.Response:
    messages = request.app[TEXTS_KEY][_page_language(request)]
    entries = [messages.plain(f"playground_demo_entry_{n}") for n in (1, 2, 3, 4)]
    done = request.app[SCENE_KEY].demo(entries)
    return web.json_response({"ok": done})


async def _reset(request: web.Request) -> web.Response:
    scene = request.app[SCENE_KEY]
    await asyncio.get_running_loop().run_in_executor(None, scene.reset)
    return web.json_response({"ok": True})


async def _download(request: web.Request) -> web.Response:
    try:
        message_id = int(request.match_info["message_id"])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc
    found = request.app[SCENE_KEY].file(message_id)
    if found is None:
        raise web.HTTPNotFound()
    name, content = found
    kind = "image/png" if name.lower().endswith(".png") else "application/octet-stream"
    inline = "inline" if kind.startswith("image/") and "download" not in request.query else None
    disposition = inline or "attachment"
    safe_name = "".join(c for c in name if c.isalnum() or c in "._-") or "file"
    return web.Response(
        body=content,
        content_type=kind,
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe_name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _miniapp(request: web.Request) -> web.Response:
    """Hook for the Mini App (SPEC §13): the address of the app, signed for the member."""
    body = await _body(request)
    try:
        src = request.app[SCENE_KEY].miniapp_src(_int(body, "member"), _str(body, "start"))
    except LookupError as exc:
        raise _refused(exc) from exc
    return web.json_response({"src": src})


def build_web(scene: Scene, texts: Texts) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[SCENE_KEY] = scene
    app[TEXTS_KEY] = texts
    app.router.add_get("/", _file)
    app.router.add_get("/font/emoji.ttf", _emoji_font)
    app.router.add_get("/{name}", _file)
    app.router.add_get("/api/texts", _texts)
    app.router.add_get("/api/state", _state)
    app.router.add_get("/api/file/{message_id}", _download)
    app.router.add_post("/api/send", _send)
    app.router.add_post("/api/press", _press)
    app.router.add_post("/api/vote", _vote)
    app.router.add_post("/api/rename", _rename)
    app.router.add_post("/api/demo", _demo)
    app.router.add_post("/api/reset", _reset)
    app.router.add_post("/api/miniapp", _miniapp)
    return app


def run_playground() -> int:
    """`python -m bot playground`: stand-in, bot and page until Ctrl-C or SIGTERM."""
    try:
        settings = PlaygroundSettings()
    except ValidationError:
        print("Cannot start: PLAYGROUND_PORT must be a port number.", file=sys.stderr)
        return 2
    texts = load_texts()
    database = Path.cwd() / PLAYGROUND_DATABASE_FILE
    scene = Scene(database, ("Anna", "Ben", "Carla"))
    return asyncio.run(_serve(scene, texts, settings.playground_port))


async def _serve(scene: Scene, texts: Texts, port: int) -> int:
    runner = web.AppRunner(build_web(scene, texts), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, LISTEN, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"Cannot start the playground: port {port} on {LISTEN} is taken ({exc.strerror}); "
            "set PLAYGROUND_PORT.",
            file=sys.stderr,
        )
        return 2
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, scene.start)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"Playground: http://{LISTEN}:{port} — a Telegram stand-in on this computer; "
        "nothing reaches Telegram (stop with Ctrl-C).",
        flush=True,
    )
    watch = asyncio.create_task(_tell_if_the_bot_fails(scene))
    try:
        await stop.wait()
    finally:
        watch.cancel()
        await loop.run_in_executor(None, scene.close)
        await runner.cleanup()
    return 0


async def _tell_if_the_bot_fails(scene: Scene) -> None:
    """One line in the terminal when the bot stops while starting (the page shows its log)."""
    while True:
        try:
            if scene.ready():
                return
        except BotStartError:
            print(
                "The bot stopped while starting; the playground's page shows the end of its log.",
                file=sys.stderr,
                flush=True,
            )
            return
        await asyncio.sleep(0.5)


def playground_wanted() -> bool:
    """`./run-bot` asks for the playground when no token is configured."""
    return os.environ.get("SECHS_CLUSTER_RUN_BOT") == "1" and not token_is_set()
