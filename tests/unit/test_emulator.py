"""The emulator refuses what Telegram refuses, so "no refusals" in the end-to-end tests means something."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.playground.emulator import BotApiEmulator, Fault, World
from bot.playground.emulator.model import TOKEN


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


def test_web_app_buttons_only_in_private_chats(world: World, call) -> None:
    """TELEGRAM.md: `web_app` buttons work only in private chats; groups need a `url` button."""
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    web_app = {"inline_keyboard": [[{"text": "App", "web_app": {"url": "https://x.example/app/"}}]]}
    link = {"inline_keyboard": [[{"text": "App", "url": "https://t.me/SomeBot/board?startapp=a"}]]}
    refused = call("sendMessage", chat_id=group.id, text="x", reply_markup=web_app)
    assert refused.status_code == 400
    assert "BUTTON_TYPE_INVALID" in _description(refused)
    assert call("sendMessage", chat_id=group.id, text="x", reply_markup=link).status_code == 200
    sent = call("sendMessage", chat_id=group.id, text="y").json()["result"]
    edited = call(
        "editMessageText",
        chat_id=group.id,
        message_id=sent["message_id"],
        text="z",
        reply_markup=web_app,
    )
    assert edited.status_code == 400
    private = world.private(anna)
    assert (
        call("sendMessage", chat_id=private.id, text="x", reply_markup=web_app).status_code == 200
    )


# ---- Telegram's seams (../shared/TELEGRAM.md): each of these fails against a kinder emulator --


def test_an_upgrade_starts_the_message_ids_again_and_refuses_the_old_chat(
    world: World, call
) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    for _ in range(5):
        call("sendMessage", chat_id=group.id, text="alt")
    new = world.migrate(group)
    updates = [u["message"] for u in world.updates]
    assert updates[0]["chat"]["id"] == group.id
    assert updates[0]["migrate_to_chat_id"] == new.id
    assert updates[1]["chat"]["id"] == new.id
    assert updates[1]["migrate_from_chat_id"] == group.id
    assert updates[1]["message_id"] == 1  # the new chat's first message
    first = call("sendMessage", chat_id=new.id, text="neu").json()["result"]
    assert first["message_id"] == 2  # the same id as a message of the old chat
    assert group.messages[2].text == "alt"
    assert new.messages[2].text == "neu"
    calls: list[tuple[str, dict[str, Any]]] = [
        ("getChat", {}),
        ("sendMessage", {"text": "x"}),
        ("getChatMember", {"user_id": anna.id}),
        ("setMessageReaction", {"message_id": 1, "reaction": []}),
    ]
    for method, params in calls:
        refused = call(method, chat_id=group.id, **params)
        assert refused.status_code == 400, method
        assert "upgraded to a supergroup" in _description(refused)
        assert refused.json()["parameters"] == {"migrate_to_chat_id": new.id}


def test_only_inline_keyboards_are_echoed(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    asked = call(
        "sendMessage", chat_id=group.id, text="Frage", reply_markup={"force_reply": True}
    ).json()["result"]
    assert "reply_markup" not in asked
    keyboard = {"keyboard": [[{"text": "ja"}]], "one_time_keyboard": True}
    shown = call("sendMessage", chat_id=group.id, text="Tasten", reply_markup=keyboard)
    assert "reply_markup" not in shown.json()["result"]
    world.send(group, anna, "Antwort", reply_to=asked["message_id"])
    reply = world.updates[-1]["message"]
    assert reply["reply_to_message"]["message_id"] == asked["message_id"]
    assert "reply_markup" not in reply["reply_to_message"]
    buttons = {"inline_keyboard": [[{"text": "b", "callback_data": "x"}]]}
    card = call("sendMessage", chat_id=group.id, text="Karte", reply_markup=buttons)
    assert card.json()["result"]["reply_markup"] == buttons


def test_an_edit_without_markup_removes_the_buttons(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    buttons = {"inline_keyboard": [[{"text": "b", "callback_data": "x"}]]}
    sent = call("sendMessage", chat_id=group.id, text="a", reply_markup=buttons).json()["result"]
    kept = call(
        "editMessageText",
        chat_id=group.id,
        message_id=sent["message_id"],
        text="b",
        reply_markup=buttons,
    ).json()["result"]
    assert kept["reply_markup"] == buttons
    bare = call("editMessageText", chat_id=group.id, message_id=sent["message_id"], text="c")
    assert "reply_markup" not in bare.json()["result"]
    assert group.messages[sent["message_id"]].reply_markup is None


def test_twenty_posts_a_minute_per_group_and_edits_count_too(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    other = world.group("H", owner=anna)
    world.flood.enforced = True
    world.flood.overall_limit = 1000
    sent = [call("sendMessage", chat_id=group.id, text=str(i)) for i in range(20)]
    assert all(r.status_code == 200 for r in sent)
    refused = call("sendMessage", chat_id=group.id, text="21")
    assert refused.status_code == 429
    assert refused.json()["parameters"]["retry_after"] >= 1
    assert call("sendMessage", chat_id=other.id, text="other group").status_code == 200
    # edits have a budget of their own, looser, but a budget
    message_id = sent[0].json()["result"]["message_id"]
    edits = [
        call("editMessageText", chat_id=group.id, message_id=message_id, text=f"e{i}")
        for i in range(world.flood.group_edit_limit + 1)
    ]
    assert [r.status_code for r in edits[:-1]] == [200] * world.flood.group_edit_limit
    assert edits[-1].status_code == 429
    world.flood.overall_limit = 3
    world.flood.overall_window = 60.0
    world.flood.group_limit = 1000
    fresh = world.group("I", owner=anna)
    codes = [call("sendMessage", chat_id=fresh.id, text="x").status_code for _ in range(2)]
    assert 429 in codes  # the overall budget (already used) holds for every chat


def test_chat_member_updates_only_for_an_administrator_bot(world: World) -> None:
    anna = world.person(1, "Anna")
    ben = world.person(2, "Ben")
    plain = world.group("G", owner=anna, admins=(ben,))
    world.demote(plain, ben, by=anna)
    assert world.updates == []  # a plain member learns nothing
    assert ben.id not in plain.admins
    ruled = world.group("H", owner=anna, admins=(ben,), bot_admin=True)
    world.demote(ruled, ben, by=anna)
    assert [list(u)[1] for u in world.updates] == ["chat_member"]


def test_pinning_needs_the_right(world: World, call) -> None:
    anna = world.person(1, "Anna")
    group = world.group("G", owner=anna)
    group.members_can_pin = False
    sent = call("sendMessage", chat_id=group.id, text="a").json()["result"]
    refused = call("pinChatMessage", chat_id=group.id, message_id=sent["message_id"])
    assert refused.status_code == 400
    assert "not enough rights" in _description(refused)
    group.members_can_pin = True
    assert (
        call("pinChatMessage", chat_id=group.id, message_id=sent["message_id"]).status_code == 200
    )
    admin = world.group("H", owner=anna, bot_admin=True)
    admin.members_can_pin = False
    sent = call("sendMessage", chat_id=admin.id, text="a").json()["result"]
    assert (
        call("pinChatMessage", chat_id=admin.id, message_id=sent["message_id"]).status_code == 200
    )
    admin.bot_can_pin = False
    assert (
        call("pinChatMessage", chat_id=admin.id, message_id=sent["message_id"]).status_code == 400
    )
