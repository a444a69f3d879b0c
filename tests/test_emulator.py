"""The emulator refuses what Telegram refuses, so "no refusals" in the end-to-end tests means something."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.playground.emulator import BotApiEmulator, Fault, World
from bot.playground.emulator.world import TOKEN


@pytest.fixture
def call(emulator: BotApiEmulator):
    def send(method: str, **params: Any) -> httpx.Response:
        data = {
            k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in params.items()
        }
        return httpx.post(f"{emulator.base_url}/bot{TOKEN}/{method}", data=data, timeout=10)

    return send


def _description(response: httpx.Response) -> str:
    return str(response.json()["description"])


def test_html_and_length_rules(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    ok = call(
        "sendMessage", chat_id=group.id, text="<b>fett</b> &amp; &lt;ok&gt;", parse_mode="HTML"
    )
    assert ok.status_code == 200
    for text, reason in [
        ("<b>offen", "end tag"),
        ("<script>x</script>", "Unsupported start tag"),
        ("a & b", "unescaped"),
        ("1 < 2", "unescaped"),
        ("<i><b>x</i></b>", "Unmatched end tag"),
        ("   ", "message text is empty"),
        ("x" * 4097, "too long"),
    ]:
        refused = call("sendMessage", chat_id=group.id, text=text, parse_mode="HTML")
        assert refused.status_code == 400, text
        assert reason in _description(refused), text
    assert (
        call("sendMessage", chat_id=group.id, text="😀" * 2049).status_code == 400
    )  # UTF-16 units


def test_placement_rules(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    missing = call("sendMessage", chat_id=group.id, text="x", reply_parameters={"message_id": 999})
    assert "message to be replied not found" in _description(missing)
    allowed = call(
        "sendMessage",
        chat_id=group.id,
        text="x",
        reply_parameters={"message_id": 999, "allow_sending_without_reply": True},
    )
    assert allowed.status_code == 200
    thread = call("sendMessage", chat_id=group.id, text="x", message_thread_id=5)
    assert "message thread not found" in _description(thread)
    button = call(
        "sendMessage",
        chat_id=group.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]},
    )
    assert "BUTTON_DATA_INVALID" in _description(button)
    unknown_chat = call("sendMessage", chat_id=-42, text="x")
    assert "chat not found" in _description(unknown_chat)


def test_membership_migration_and_faults(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    world.remove_bot(group, anna)
    kicked = call("sendMessage", chat_id=group.id, text="x")
    assert kicked.status_code == 403
    world.add_bot(group, anna)
    new = world.migrate(group)
    moved = call("sendMessage", chat_id=group.id, text="x")
    assert moved.json()["parameters"] == {"migrate_to_chat_id": new.id}
    world.inject(Fault("sendMessage", "429", count=1, retry_after=3))
    limited = call("sendMessage", chat_id=new.id, text="x")
    assert limited.status_code == 429
    assert limited.json()["parameters"] == {"retry_after": 3}
    assert call("sendMessage", chat_id=new.id, text="x").status_code == 200


def test_requests_are_checked_against_the_published_api(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    assert call("sendMessage", chat_id=group.id, text="x", colour="red").status_code == 400
    assert call("sendMessage", chat_id=group.id).status_code == 400
    assert call("sendMesage", chat_id=group.id, text="x").status_code == 400
    assert world.violations == [
        "sendMessage: unknown parameter colour",
        "sendMessage: missing required text",
        "unknown method sendMesage",
    ]


def test_edits_that_change_nothing_and_reactions(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    sent = call("sendMessage", chat_id=group.id, text="gleich").json()["result"]
    same = call("editMessageText", chat_id=group.id, message_id=sent["message_id"], text="gleich")
    assert "message is not modified" in _description(same)
    bad = call(
        "setMessageReaction",
        chat_id=group.id,
        message_id=sent["message_id"],
        reaction=[{"type": "emoji", "emoji": "🚲"}],
    )
    assert "REACTION_INVALID" in _description(bad)
    good = call(
        "setMessageReaction",
        chat_id=group.id,
        message_id=sent["message_id"],
        reaction=[{"type": "emoji", "emoji": "👍"}],
    )
    assert good.status_code == 200


def test_privacy_mode_delivery(world: World) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    world.send(group, anna, "nur unter Menschen")
    world.send(group, anna, "/status")
    world.send(group, anna, "/status@SechsClusterTestBot")
    assert [u["message"]["text"] for u in world.updates] == [
        "/status",
        "/status@SechsClusterTestBot",
    ]
