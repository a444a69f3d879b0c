"""A small Bot API stand-in for the benchmarks: aiohttp on 127.0.0.1, every answer after a delay.

Written for the benchmarks and independent of the tests' emulator: it checks nothing, keeps only
what a benchmark reads (which message got a reaction when, which messages the bot sent), and
costs little CPU so that the bot under test has the machine.

Methods: getMe, getUpdates (long poll, offset semantics: an update is returned until an offset
above it confirms it; batches of up to 100), sendMessage, editMessageText, setMessageReaction,
getChatAdministrators (every person of a group is an administrator, its moderator the creator),
getChat, getChatMember, answerCallbackQuery, pinChatMessage, setMyCommands, deleteWebhook,
setMyDescription, setMyShortDescription; any other method answers `true`.

Run alone (for request_cpu): `python -m benchmarks.standin [--latency-ms 0]` prints `PORT <n>`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 123456789
BOT_USERNAME = "BenchStandInBot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Bench", "username": BOT_USERNAME}


def person_json(person_id: int) -> dict[str, Any]:
    return {"id": person_id, "is_bot": False, "first_name": f"P{person_id}", "language_code": "de"}


@dataclass
class Group:
    id: int
    title: str
    moderator: int
    people: list[int]
    next_id: int = 1
    sent: list[dict[str, Any]] = field(default_factory=list)  # the bot's messages, in order

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "type": "group", "title": self.title}

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


def _administrator(person_id: int) -> dict[str, Any]:
    return {
        "status": "administrator",
        "user": person_json(person_id),
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }


class StandIn:
    """The Bot API as the benchmark sees it; all state lives on one event loop."""

    def __init__(self, latency: float = 0.05) -> None:
        self.latency = latency
        self.groups: dict[int, Group] = {}
        self.updates: deque[dict[str, Any]] = deque()
        self.next_update_id = 1
        self.updates_ready = asyncio.Event()
        self.calls: dict[str, int] = {}
        self.reactions: dict[tuple[int, int], float] = {}  # (chat, message) → first reaction
        self.sent_event = asyncio.Event()
        self.ready = asyncio.Event()  # set at the first getUpdates
        self.closing = False
        self._group_ids = itertools.count(400000001)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- the scene -----------------------------------------------------------------------

    def group(self, title: str, people: list[int]) -> Group:
        chat_id = -next(self._group_ids)
        group = Group(chat_id, title, people[0], people)
        self.groups[chat_id] = group
        return group

    def card(self, group: Group, text: str) -> dict[str, Any]:
        """A message from the bot that is already in the group (for bots with no database)."""
        message = {
            "message_id": group.take_id(),
            "date": int(time.time()),
            "chat": group.json(),
            "from": BOT_USER,
            "text": text,
        }
        group.sent.append(message)
        return message

    def message(
        self, group: Group, person: int, text: str, reply_to: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A person writes in a group; queue the update and answer the message."""
        message: dict[str, Any] = {
            "message_id": group.take_id(),
            "date": int(time.time()),
            "chat": group.json(),
            "from": person_json(person),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.updates.append({"update_id": self.next_update_id, "message": message})
        self.next_update_id += 1
        self.updates_ready.set()
        return message

    # ---- the server ----------------------------------------------------------------------

    async def start(self, port: int = 0) -> StandIn:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, handler_cancellation=True
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, backlog=1024).start()
        return self

    async def stop(self) -> None:
        self.closing = True
        self.updates_ready.set()  # long polls end now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        self.calls[method] = self.calls.get(method, 0) + 1
        params = await _params(request)
        if method == "setmessagereaction":
            key = (int(params["chat_id"]), int(params["message_id"]))
            self.reactions.setdefault(key, time.monotonic())
        if self.latency:
            await asyncio.sleep(self.latency)
        if method == "getupdates":
            result: Any = await self._get_updates(params)
        else:
            handler = getattr(self, "api_" + method, None)
            result = handler(params) if handler is not None else True
        return web.Response(
            body=json.dumps({"ok": True, "result": result}).encode(),
            content_type="application/json",
        )

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.ready.set()
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = float(params.get("timeout") or 0)
        while self.updates and self.updates[0]["update_id"] < offset:
            self.updates.popleft()
        if not self.updates and timeout > 0 and not self.closing:
            self.updates_ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.updates_ready.wait(), timeout)
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()
        return list(itertools.islice(self.updates, limit))

    # ---- the methods -----------------------------------------------------------------------

    def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.groups[int(params["chat_id"])]
        message = self.card(group, str(params.get("text", "")))
        self.sent_event.set()
        return message

    def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "chat_id" not in params:
            return True
        group = self.groups[int(params["chat_id"])]
        return {
            "message_id": int(params["message_id"]),
            "date": int(time.time()),
            "chat": group.json(),
            "from": BOT_USER,
            "text": str(params.get("text", "")),
        }

    def api_getchatadministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        group = self.groups[int(params["chat_id"])]
        creator = {"status": "creator", "user": person_json(group.moderator), "is_anonymous": False}
        return [creator] + [_administrator(p) for p in group.people if p != group.moderator]

    def api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.groups[int(params["chat_id"])]
        user = int(params["user_id"])
        if user == group.moderator:
            return {"status": "creator", "user": person_json(user), "is_anonymous": False}
        return _administrator(user)

    def api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.groups[int(params["chat_id"])]
        return {**group.json(), "accent_color_id": 0, "max_reaction_count": 11}


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.read()
        return dict(json.loads(body)) if body else {}
    if request.method == "GET":
        return dict(request.query)
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    standin = await StandIn(args.latency_ms / 1000).start(args.port)
    standin.group("G", [1])  # chat -400000001 with one person, for sendMessage
    print(f"PORT {standin.port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await standin.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
