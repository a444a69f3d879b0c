"""Helpers for the Mini App's tests: signed init data, the app's links, a free port."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx

from bot.miniapp.initdata import sign
from bot.playground.emulator import World
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.model import TOKEN, Chat, Person, StoredMessage
from tests.support.harness import wait_until
from tests.support.scenario import Team

SHORT_NAME = "board"
OTHER_TOKEN = "7000000002:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"  # another bot's token
LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
}
DARK = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#181818",
}


def miniapp_env(port: int) -> dict[str, str]:
    """What a deploy sets to offer the Mini App, pointed at the test's port."""
    return {
        "HTTP_PORT": str(port),
        "HTTP_LISTEN": "127.0.0.1",
        "MINIAPP_URL": f"https://127.0.0.1:{port}/app/",
        "MINIAPP_SHORT_NAME": SHORT_NAME,
    }


def init_data(
    person: Person,
    token: str,
    *,
    signed_by: str = TOKEN,
    age: float = 0,
    language: str | None = None,
) -> str:
    """Init data as Telegram hands it to the app opened from a group's direct link."""
    user = {
        "id": person.id,
        "first_name": person.first_name,
        "language_code": language if language is not None else person.language_code,
    }
    fields = {
        "auth_date": str(int(time.time() - age)),
        "chat_instance": "-4242424242",
        "chat_type": "group",
        "query_id": "AAEAAAE",
        "start_param": token,
        "user": json.dumps(user, separators=(",", ":")),
    }
    return sign(fields, signed_by)


def launch_url(port: int, data: str, theme: dict[str, str] = LIGHT) -> str:
    """The app's address with the launch parameters in the fragment, as Telegram opens it."""
    return (
        f"http://127.0.0.1:{port}/app/#tgWebAppData={quote(data, safe='')}"
        f"&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop"
        f"&tgWebAppThemeParams={quote(json.dumps(theme), safe='')}"
    )


def app_buttons(message: StoredMessage) -> list[dict[str, Any]]:
    return [b for b in buttons_of(message.reply_markup) if "url" in b or "web_app" in b]


def token_of(button: dict[str, Any]) -> str:
    url = button.get("url") or button["web_app"]["url"]
    return parse_qs(urlparse(url).query)["startapp"][0]


def status_message(world: World, chat: Chat) -> StoredMessage:
    """The board's pinned status message."""
    pinned = world.pinned.get(chat.id, [])
    assert pinned, "no pinned status message"
    return chat.messages[pinned[-1]]


def call(
    port: int,
    method: str,
    path: str,
    data: str | None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    headers = {} if data is None else {"Authorization": f"tma {data}".strip()}
    return httpx.request(
        method, f"http://127.0.0.1:{port}{path}", headers=headers, json=body, timeout=10
    )


def opened_board_token(team: Team, owner: Person, member: Person) -> str:
    """The common scene: the owner opens a board and area 1, a member asks `/status`; the
    token of the Mini App button on the pinned status message."""
    world, group = team.world, team.chat
    team.say(owner, "/newboard Citybike")
    team.say(owner, "/area 1")
    team.wait_card(1)
    team.say(member, "/status")
    wait_until(lambda: world.pinned.get(group.id), what="the pinned status message")
    [button] = app_buttons(status_message(world, group))
    return token_of(button)
