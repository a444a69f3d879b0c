"""The emulator's polls refuse what Telegram refuses and report what Telegram reports: options
1–12 of 1–100 characters, HTML only where asked for, a poll stopped once, and a `poll_answer`
with the whole current choice only for polls that are not anonymous."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.model import TOKEN

Call = Callable[..., httpx.Response]


@pytest.fixture
def call(emulator: BotApiEmulator) -> Call:
    def send(method: str, **params: Any) -> httpx.Response:
        data = {
            k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in params.items()
        }
        return httpx.post(f"{emulator.base_url}/bot{TOKEN}/{method}", data=data, timeout=10)

    return send


def _options(*texts: str) -> list[dict[str, str]]:
    return [{"text": text} for text in texts]


def test_send_poll_checks_options_and_question(world: World, call: Call) -> None:
    group = world.group("G", owner=world.person(1, "Anna"))
    refused = [
        call("sendPoll", chat_id=group.id, question="Q", options=_options(*"abcdefghijklm")),
        call("sendPoll", chat_id=group.id, question="Q", options=[]),
        call("sendPoll", chat_id=group.id, question="Q", options=_options("x" * 101)),
        call("sendPoll", chat_id=group.id, question="x" * 301, options=_options("a")),
        call(
            "sendPoll",
            chat_id=group.id,
            question="Q",
            options=[{"text": "a <b", "text_parse_mode": "HTML"}],
        ),
        call("sendPoll", chat_id=group.id, question="Q", options=_options("a"), parse_mode="HTML"),
    ]
    assert [r.status_code for r in refused] == [400] * 6
    assert "unknown parameter parse_mode" in refused[-1].json()["description"]
    sent = call(
        "sendPoll",
        chat_id=group.id,
        question="Q?",
        options=_options("😀" * 50, *"bcdefghijkl"),  # 12 options; 100 UTF-16 units
        is_anonymous="false",
        allows_multiple_answers="true",
    )
    assert sent.status_code == 200
    poll = sent.json()["result"]["poll"]
    assert len(poll["options"]) == 12
    assert not poll["is_anonymous"]
    assert poll["allows_multiple_answers"]


def test_answers_stop_and_anonymous_polls(world: World, call: Call) -> None:
    anna = world.person(1, "Anna")
    ben = world.person(2, "Ben")
    group = world.group("G", owner=anna)
    named = call(
        "sendPoll",
        chat_id=group.id,
        question="Q?",
        options=_options("a", "b", "c"),
        is_anonymous="false",
        allows_multiple_answers="true",
    ).json()["result"]
    secret = call("sendPoll", chat_id=group.id, question="Q?", options=_options("a", "b"))
    first, anonymous = world.polls_in(group)
    world.answer_poll(ben, first, [0, 2])
    world.answer_poll(ben, first, [])
    world.answer_poll(anna, anonymous, [1])
    with pytest.raises(AssertionError, match="one answer"):
        world.answer_poll(anna, anonymous, [0, 1])
    answers = [u["poll_answer"] for u in world.updates if "poll_answer" in u]
    assert [(a["user"]["id"], a["option_ids"]) for a in answers] == [(2, [0, 2]), (2, [])]
    assert all(a["poll_id"] == first.id for a in answers)
    assert anonymous.json()["total_voter_count"] == 1
    assert secret.status_code == 200
    stopped = call("stopPoll", chat_id=group.id, message_id=named["message_id"])
    assert stopped.json()["result"]["is_closed"]
    again = call("stopPoll", chat_id=group.id, message_id=named["message_id"])
    assert "already been closed" in again.json()["description"]
    with pytest.raises(AssertionError, match="closed"):
        world.answer_poll(ben, first, [1])
