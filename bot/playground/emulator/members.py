"""Who is in a chat: its owner, administrators and members, and the bot joining or leaving."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.playground.emulator.model import BOT, ApiError, Chat, Person
from bot.playground.emulator.spec import SPEC_PATH


class MembersMixin:
    """getChat, getChatAdministrators and getChatMember, and the bot's own membership updates."""

    people: dict[int, Person]

    def api_getchat(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._chat(params)  # type: ignore[attr-defined]
        return {**chat.json(), "accent_color_id": 0, "max_reaction_count": 11}

    def api_getchatadministrators(self, params: dict[str, Any], files: Any) -> list[dict[str, Any]]:
        chat = self._chat(params)  # type: ignore[attr-defined]
        members = []
        if chat.owner is not None:
            members.append({"status": "creator", "user": chat.owner.json(), "is_anonymous": False})
        for admin_id in sorted(chat.admins):
            person = self.people.get(admin_id)
            if person is not None:
                members.append(_administrator(person))
        return members

    def api_getchatmember(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        """Owner, administrator, member (wrote in the chat) or left; demote with admins.discard."""
        chat = self._chat(params)  # type: ignore[attr-defined]
        if not chat.bot_member:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        person = self.people.get(int(params.get("user_id", 0)))
        if person is None:
            raise ApiError(400, "Bad Request: user not found")
        if chat.owner is not None and chat.owner.id == person.id:
            return {"status": "creator", "user": person.json(), "is_anonymous": False}
        if person.id in chat.admins:
            return _administrator(person)
        if person.id in chat.removed:
            return {"status": "kicked", "user": person.json(), "until_date": 0}
        wrote = any(m.sender and m.sender.id == person.id for m in chat.messages.values())
        return {"status": "member" if wrote else "left", "user": person.json()}

    def _member_update(self, chat: Chat, by: Person, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": BOT.json()}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self._push(  # type: ignore[attr-defined]
            {
                "my_chat_member": {
                    "chat": chat.json(),
                    "from": by.json(),
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )


def _administrator(person: Person) -> dict[str, Any]:
    spec = json.loads(json.dumps(_administrator_fields()))
    data: dict[str, Any] = dict.fromkeys(spec, False)
    data.update({"status": "administrator", "user": person.json(), "can_be_edited": False})
    return data


def _administrator_fields() -> list[str]:
    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return [
        f["name"]
        for f in raw["types"]["ChatMemberAdministrator"]["fields"]
        if f["required"] and f["types"] == ["Boolean"]
    ]
