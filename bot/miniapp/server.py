"""The Mini App on the bot's own HTTP server: the page's files under `/app/` and its JSON under
`/api/` (SPEC §13), mounted beside `/healthz` in polling and in webhook mode.

Every API call carries `Authorization: tma <initData>`, checked as Telegram documents it
(bot/miniapp/initdata.py); the person must be a member of the board's group (asked from
Telegram, kept a minute) and a moderator for moderator actions. An unknown token and a board of
another group get the same 404; nothing in an answer says whether a board exists.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import Session
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import CallbackContext

from bot import clock, metrics
from bot.context import BotApplication, Context
from bot.handlers import miniapp as app
from bot.handlers.core.turn import Refusal
from bot.miniapp.access import MemberCache, WriteLimit
from bot.miniapp.initdata import InitDataError, WebAppUser, verify
from bot.render import miniapp as render
from bot.store import links
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Texts

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
APPLICATION_KEY = web.AppKey("miniapp_application", object)
STATE_KEY = web.AppKey("miniapp_state", object)
# nothing but our own files and Telegram's script; no inline script, no data in markup
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; object-src 'none'; "
    "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org"
)
# a Mini App on this computer (the playground's, or a developer's) may sit in a local page
_LOCAL = re.compile(r"^http://(127\.0\.0\.1|localhost)(:\d+)?/")


def content_security_policy(miniapp_url: str | None) -> str:
    """The page's policy; a local Mini App may also be framed by a local page."""
    if miniapp_url is not None and _LOCAL.match(miniapp_url):
        return CONTENT_SECURITY_POLICY + " http://127.0.0.1:* http://localhost:*"
    return CONTENT_SECURITY_POLICY


_MEMBERS = (
    ChatMemberStatus.OWNER,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
)
_RULERS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


@dataclass
class _State:
    application: BotApplication
    files: dict[str, tuple[bytes, str]]
    members: MemberCache
    writes: WriteLimit
    policy: str = CONTENT_SECURITY_POLICY


def _load_files(texts: Texts) -> dict[str, tuple[bytes, str]]:
    """The page's files, read once: the names are fixed, nothing else is served. Beside them,
    per language, the few sentences the page needs before a launch is checked
    (`texts-de.json` …), from the prompts like every other sentence."""
    files: dict[str, tuple[bytes, str]] = {
        f"texts-{language}.json": (
            json.dumps(render.open_texts(messages), ensure_ascii=False).encode(),
            "application/json; charset=utf-8",
        )
        for language, messages in texts.languages.items()
    }
    for path in sorted(WEB_DIR.iterdir()):
        if path.suffix in (".html", ".js", ".css") and path.is_file():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".js":
                kind = "text/javascript"
            files[path.name] = (path.read_bytes(), f"{kind}; charset=utf-8")
    return files


def mount(application: BotApplication) -> Callable[[web.Application], None]:
    """Routes for an aiohttp application: call the result with the server's application."""

    def add(server: web.Application) -> None:
        files = _load_files(application.bot_data.texts)
        policy = content_security_policy(application.bot_data.settings.miniapp_url)
        server[STATE_KEY] = _State(application, files, MemberCache(), WriteLimit(), policy)
        server.router.add_get("/app", _to_app)
        server.router.add_get("/app/", _file)
        server.router.add_get("/app/{name}", _file)
        base = "/api/boards/{token}"
        server.router.add_get(base, _board)
        server.router.add_get(base + "/version", _version)
        server.router.add_get(base + "/model", _model)
        server.router.add_get(base + "/plan", _plan)
        server.router.add_post(base + "/entries", _add_entry)
        server.router.add_patch(base + "/entries/{entry}", _edit_entry)
        server.router.add_delete(base + "/entries/{entry}", _take_back)
        server.router.add_patch(base + "/measures/{number}", _set_measure)
        server.router.add_route("*", "/api/{tail:.*}", _unknown)

    return add


def _state(request: web.Request) -> _State:
    state = request.app[STATE_KEY]
    assert isinstance(state, _State)
    return state


def _security_headers(response: web.StreamResponse, policy: str) -> web.StreamResponse:
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    return response


async def _to_app(_request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect("/app/")


async def _file(request: web.Request) -> web.StreamResponse:
    name = request.match_info.get("name") or "index.html"
    state = _state(request)
    found = state.files.get(name)
    if found is None:
        return _security_headers(web.Response(status=404, text="not found"), state.policy)
    body, kind = found
    return _security_headers(web.Response(body=body, headers={"Content-Type": kind}), state.policy)


# ---- answers ------------------------------------------------------------------------------------


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    response = web.json_response(body, status=status)
    _security_headers(response, CONTENT_SECURITY_POLICY)
    response.headers["Cache-Control"] = "no-store"
    return response


class _Answer(Exception):
    """Stop here and answer this (401, 403, 404 …); the bodies reveal nothing more."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


UNAUTHORIZED = _Answer(401, "unauthorized")
NOT_FOUND = _Answer(404, "not found")


@dataclass(frozen=True)
class _Visit:
    """One checked API call: the board, who calls, in which language."""

    board: Board
    visitor: app.Visitor
    language: str


def _person(request: web.Request, token: str) -> WebAppUser:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "tma" or not raw.strip():
        raise UNAUTHORIZED
    try:
        return verify(raw.strip(), token, clock.now())
    except InitDataError as exc:
        log.info("Mini App call refused: init data %s", exc)
        raise UNAUTHORIZED from exc


async def _status(state: _State, chat_id: int, person_id: int, *, fresh: bool) -> str | None:
    """The person's status in the group, asked from Telegram (kept a minute unless `fresh`)."""
    if not fresh:
        cached = state.members.get(chat_id, person_id)
        if cached is not None:
            return cached or None
    try:
        member = await state.application.bot.get_chat_member(chat_id, person_id)
    except TelegramError as exc:  # cannot ask: no rights given by mistake
        log.info("Mini App: could not ask for a member of %s: %s", chat_id, exc)
        return None
    status = str(member.status)
    if status == ChatMemberStatus.RESTRICTED and getattr(member, "is_member", False):
        status = ChatMemberStatus.MEMBER
    state.members.put(chat_id, person_id, status)
    return status


async def _visit(request: web.Request, *, moderator: bool = False) -> _Visit:
    state = _state(request)
    data = state.application.bot_data
    person = _person(request, data.settings.telegram_bot_token.get_secret_value())
    token = request.match_info["token"]

    def find(unit: UnitOfWork) -> Board | None:
        return links.board_by_token(unit.session, token=token)  # stays readable once closed

    board = await data.run_unit(None, find)
    if board is None:
        raise NOT_FOUND
    status = await _status(state, board.chat_id, person.id, fresh=moderator)
    if status not in _MEMBERS:
        raise NOT_FOUND  # the same answer as for a board that does not exist
    rules = status in _RULERS or board.created_by == person.id
    if moderator and not rules:
        raise _Answer(403, "forbidden")
    code = person.language_code.casefold()
    language = next((lang for lang in data.texts.languages if code.startswith(lang)), None)
    name = (person.first_name or str(person.id)).replace("\x00", "")
    return _Visit(board, app.Visitor(person.id, name, rules), language or board.language)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Answer(400, "bad request") from exc
    if not isinstance(body, dict):
        raise _Answer(400, "bad request")
    return body


def _api(
    handler: Callable[[web.Request], Any],
) -> Callable[[web.Request], Any]:
    """Turn the checks' refusals into answers."""

    async def answer(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Answer as refused:
            return _json({"error": refused.error}, refused.status)
        except LookupError:  # the board went while the call was under way
            return _json({"error": NOT_FOUND.error}, NOT_FOUND.status)

    return answer


# ---- reading ------------------------------------------------------------------------------------


@_api
async def _board(request: web.Request) -> web.Response:
    visit = await _visit(request)
    data = _state(request).application.bot_data

    def read(unit: UnitOfWork) -> app.Done:
        done = app.read_board(unit.session, data, _board_in(unit.session, visit), visit.visitor)
        unit.commit()
        return done

    done = await data.run_unit(visit.board.chat_id, read)
    return _json(done.body)


@_api
async def _version(request: web.Request) -> web.Response:
    visit = await _visit(request)
    data = _state(request).application.bot_data

    def read(unit: UnitOfWork) -> str:
        version = links.board_version(unit.session, board=_board_in(unit.session, visit))
        unit.commit()
        return version

    return _json({"version": await data.run_unit(visit.board.chat_id, read)})


@_api
async def _model(request: web.Request) -> web.Response:
    visit = await _visit(request)
    data = _state(request).application.bot_data
    body = render.model_data(data.model(visit.language), data.messages(visit.language))
    return _json(body)


@_api
async def _plan(request: web.Request) -> web.Response:
    visit = await _visit(request)
    data = _state(request).application.bot_data

    def read(unit: UnitOfWork) -> app.Done:
        done = app.read_plan(unit.session, data, _board_in(unit.session, visit))
        unit.commit()  # the plan's measures brought up to date with the board
        return done

    done = await data.run_unit(visit.board.chat_id, read)
    return _json(done.body)


# ---- writing ------------------------------------------------------------------------------------


async def _write(
    request: web.Request, visit: _Visit, work: Callable[[Session, Board], app.Done]
) -> web.Response:
    """One write of the app: rate-limited per person, one unit of work, then the sends."""
    state = _state(request)
    data = state.application.bot_data
    if not state.writes.allow(visit.visitor.id):
        messages = data.messages(visit.language)
        return _json({"error": messages.plain("app_too_many")}, 429)

    def write(unit: UnitOfWork) -> app.Done:
        done = work(unit.session, _board_in(unit.session, visit))
        if done.out is not None:  # the group's posts stored with the write (SPEC §12)
            unit.store(done.out)
        unit.commit()
        return done

    try:
        done = await data.run_unit(visit.board.chat_id, write)  # (a failure: nothing is sent)
    except Refusal as refusal:
        messages = data.messages(visit.language)
        reason = messages.plain_format(refusal.key, **refusal.values)
        return _json({"error": reason}, 409)
    except LookupError as exc:
        raise NOT_FOUND from exc
    except (ValueError, TypeError) as exc:
        raise _Answer(400, "bad request") from exc
    if done.saved:
        metrics.entry_saved()
    if done.out is not None and done.out.steps:
        context: Context = CallbackContext(state.application)
        try:
            await done.out.deliver(context)
        except TelegramError as exc:  # stored and committed; the group hears of it later
            log.warning("Mini App: a send to the group failed: %s", exc)
    return _json(done.body)


def _board_in(session: Session, visit: _Visit) -> Board:
    """The visit's board again, in this unit of work (it may have been deleted meanwhile)."""
    board = session.get(Board, visit.board.id)
    if board is None:
        raise LookupError("the board is gone")
    return board


def _number(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError as exc:
        raise NOT_FOUND from exc


@_api
async def _add_entry(request: web.Request) -> web.Response:
    visit = await _visit(request)
    body = await _body(request)
    data = _state(request).application.bot_data
    return await _write(request, visit, lambda s, b: app.add_entry(s, data, b, visit.visitor, body))


@_api
async def _edit_entry(request: web.Request) -> web.Response:
    visit = await _visit(request)
    entry, body = _number(request, "entry"), await _body(request)
    data = _state(request).application.bot_data
    return await _write(
        request, visit, lambda s, b: app.edit_entry(s, data, b, visit.visitor, entry, body)
    )


@_api
async def _take_back(request: web.Request) -> web.Response:
    visit = await _visit(request)
    entry = _number(request, "entry")
    data = _state(request).application.bot_data
    return await _write(
        request, visit, lambda s, b: app.take_back(s, data, b, visit.visitor, entry)
    )


@_api
async def _set_measure(request: web.Request) -> web.Response:
    visit = await _visit(request, moderator=True)
    number, body = _number(request, "number"), await _body(request)
    data = _state(request).application.bot_data
    return await _write(request, visit, lambda s, b: app.set_measure(s, data, b, number, body))


async def _unknown(_request: web.Request) -> web.Response:
    return _json({"error": "not found"}, 404)
