"""The reply handler's filter: `SPOKEN` says the same as ~filters.StatusUpdate.ALL."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update
from telegram.ext import filters

from bot.app import SPOKEN

CHAT = {"id": -100123, "type": "supergroup", "title": "Team", "is_forum": True}
PERSON = {"id": 7, "is_bot": False, "first_name": "Anna"}
CARD = {"message_id": 5, "date": 1_700_000_000, "chat": CHAT, "text": "1. Kunden"}


def _message(**fields: Any) -> Update:
    message = {"message_id": 9, "date": 1_700_000_001, "chat": CHAT, "from": PERSON}
    return Update.de_json({"update_id": 1, "message": {**message, **fields}}, None)


@pytest.mark.parametrize(
    ("fields", "spoken"),
    [
        ({"text": "Antwort", "reply_to_message": CARD}, True),
        ({"caption": "Foto", "photo": [], "reply_to_message": CARD}, True),
        ({"reply_to_message": CARD}, True),  # neither text nor caption: no entry, answered
        ({"pinned_message": CARD}, False),
        ({"forum_topic_created": {"name": "Kunden", "icon_color": 1}}, False),
        ({"forum_topic_edited": {"name": "Neu"}, "reply_to_message": CARD}, False),
        ({"new_chat_members": [PERSON]}, False),
        ({"migrate_to_chat_id": -100999}, False),
    ],
)
def test_spoken_agrees_with_the_status_update_filters(fields: dict[str, Any], spoken: bool) -> None:
    update = _message(**fields)
    assert SPOKEN.check_update(update) is spoken
    assert (not filters.StatusUpdate.ALL.check_update(update)) is spoken
