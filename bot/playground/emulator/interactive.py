"""What people do with the bot's buttons and menus, and the Bot API calls that serve them.

Presses create `callback_query` updates only for buttons that exist on the message; answers to
them are refused when given twice or too late, as Telegram does; edits of text and markup say
"message is not modified" when nothing changes; pinning needs the right; command menus are
checked for valid scopes and language codes.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from bot.playground.emulator.model import ApiError, Chat, Person, StoredMessage

ANSWER_DEADLINE_SECONDS = 15.0  # Telegram refuses answers to older queries
COMMAND_SCOPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
_query_ids = itertools.count(900000001)
_ADMIN_RIGHTS = {
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


@dataclass
class Query:
    """A button press waiting for the bot's answer."""

    id: str
    chat_id: int
    message_id: int
    person_id: int
    data: str
    created: float
    answers: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Menus:
    """What the bot set as its commands, descriptions and pins."""

    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)


def buttons_of(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every inline button of a reply markup."""
    if not markup:
        return []
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def parse_markup(raw: object) -> dict[str, Any] | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dict):
        return raw
    parsed = json.loads(str(raw))
    return parsed if isinstance(parsed, dict) else None


class InteractiveMixin:
    """Buttons, callback queries, edits of markup, pins and menus (mixed into World)."""

    lock: Any
    chats: dict[int, Chat]
    queries: dict[str, Query]
    menus: Menus
    pinned: dict[int, list[int]]

    def _init_interactive(self) -> None:
        self.queries = {}
        self.menus = Menus()
        self.pinned = {}

    # ---- what people do ----------------------------------------------------------------------

    def press(self, chat: Chat, person: Person, message: StoredMessage, data: str) -> str:
        """A person taps the button with `data` on a bot message; returns the query id.

        Only buttons that exist on the message can be pressed (AssertionError otherwise).
        """
        with self.lock:
            current = self.chats[chat.id]
            stored = current.messages.get(message.message_id)
            assert stored is not None, "that message is gone"
            datas = [b.get("callback_data") for b in buttons_of(stored.reply_markup)]
            assert data in datas, f"no button {data!r} on message {message.message_id}: {datas}"
            query = Query(
                id=str(next(_query_ids)),
                chat_id=chat.id,
                message_id=message.message_id,
                person_id=person.id,
                data=data,
                created=time.monotonic(),
            )
            self.queries[query.id] = query
            self._push(  # type: ignore[attr-defined]
                {
                    "callback_query": {
                        "id": query.id,
                        "from": person.json(),
                        "message": self.message_json(current, stored),  # type: ignore[attr-defined]
                        "chat_instance": str(abs(chat.id)),
                        "data": data,
                    }
                }
            )
            return query.id

    def press_label(self, chat: Chat, person: Person, message: StoredMessage, label: str) -> str:
        """Tap the button whose text contains `label`."""
        with self.lock:
            stored = self.chats[chat.id].messages[message.message_id]
            for button in buttons_of(stored.reply_markup):
                if label in button.get("text", "") and "callback_data" in button:
                    return self.press(chat, person, message, button["callback_data"])
        raise AssertionError(f"no button labelled {label!r} on message {message.message_id}")

    def forge_press(self, chat: Chat, person: Person, message_id: int, data: str) -> str:
        """A press Telegram would deliver although the button is not (or no longer) on the
        message as the bot sees it: a stale client, a deleted message, a crafted payload."""
        with self.lock:
            current = self.chats[chat.id]
            stored = current.messages.get(message_id)
            query = Query(
                id=str(next(_query_ids)),
                chat_id=chat.id,
                message_id=message_id,
                person_id=person.id,
                data=data,
                created=time.monotonic(),
            )
            self.queries[query.id] = query
            message = (
                self.message_json(current, stored)  # type: ignore[attr-defined]
                if stored is not None
                else {"message_id": message_id, "date": 0, "chat": current.json()}
            )
            self._push(  # type: ignore[attr-defined]
                {
                    "callback_query": {
                        "id": query.id,
                        "from": person.json(),
                        "message": message,
                        "chat_instance": str(abs(chat.id)),
                        "data": data,
                    }
                }
            )
            return query.id

    def demote(self, chat: Chat, person: Person, *, by: Person) -> None:
        """An administrator loses the rights; Telegram sends a `chat_member` update only to a bot
        that is an administrator itself (and asked for them in allowed_updates)."""
        with self.lock:
            current = self.chats[chat.id]
            current.admins.discard(person.id)
            if not current.bot_admin:
                return  # a bot that is a plain member is told nothing
            self._push(  # type: ignore[attr-defined]
                {
                    "chat_member": {
                        "chat": self.chats[chat.id].json(),
                        "from": by.json(),
                        "date": int(time.time()),
                        "old_chat_member": {
                            "status": "administrator",
                            "user": person.json(),
                            **_ADMIN_RIGHTS,
                        },
                        "new_chat_member": {"status": "member", "user": person.json()},
                    }
                }
            )

    def answer_of(self, query_id: str) -> dict[str, Any] | None:
        """The bot's answer to a press, if it gave one."""
        with self.lock:
            answers = self.queries[query_id].answers
            return answers[0] if answers else None

    # ---- the Bot API -------------------------------------------------------------------------

    def api_answercallbackquery(self, params: dict[str, Any], files: Any) -> bool:
        query = self.queries.get(str(params.get("callback_query_id")))
        too_old = (
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )
        if query is None or query.answers:
            raise ApiError(400, too_old)
        if time.monotonic() - query.created > ANSWER_DEADLINE_SECONDS:
            raise ApiError(400, too_old)
        text = str(params.get("text") or "")
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        alert = str(params.get("show_alert", "")).lower() in ("true", "1")
        query.answers.append({"text": text, "show_alert": alert})
        return True

    def api_editmessagereplymarkup(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        message = chat.messages.get(int(params["message_id"]))
        if message is None or not message.sender or not message.sender.is_bot:
            raise ApiError(400, "Bad Request: message to edit not found")
        self._check_markup(params, chat)  # type: ignore[attr-defined]
        markup = parse_markup(params.get("reply_markup"))
        if (markup or None) == (message.reply_markup or None):
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edits += 1
        return self.message_json(chat, message)  # type: ignore[attr-defined]

    def api_pinchatmessage(self, params: dict[str, Any], files: Any) -> bool:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        if not ((chat.bot_admin and chat.bot_can_pin) or chat.members_can_pin):
            raise ApiError(
                400, "Bad Request: not enough rights to manage pinned messages in the chat"
            )
        message_id = int(params["message_id"])
        if message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to pin not found")
        self.pinned.setdefault(chat.id, []).append(message_id)
        return True

    def api_unpinchatmessage(self, params: dict[str, Any], files: Any) -> bool:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        pins = self.pinned.get(chat.id, [])
        if params.get("message_id") and int(params["message_id"]) in pins:
            pins.remove(int(params["message_id"]))
        return True

    def api_setmycommands(self, params: dict[str, Any], files: Any) -> bool:
        raw = params.get("commands")
        commands = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100")
        for command in commands:
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if (
                not (1 <= len(name) <= 32)
                or not name.replace("_", "").isalnum()
                or name != name.lower()
            ):
                raise ApiError(400, f"Bad Request: BOT_COMMAND_INVALID ({name})")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope")
        scope = json.loads(scope) if isinstance(scope, str) else (scope or {"type": "default"})
        if scope.get("type") not in COMMAND_SCOPES:
            raise ApiError(400, "Bad Request: BOT_COMMAND_SCOPE_INVALID")
        language = str(params.get("language_code") or "")
        if language and (len(language) != 2 or not language.isalpha()):
            raise ApiError(400, "Bad Request: LANGUAGE_CODE_INVALID")
        key = (str(scope["type"]), language)
        self.menus.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def api_setmydescription(self, params: dict[str, Any], files: Any) -> bool:
        return self._set_text(params, "description", 512, self.menus.descriptions)

    def api_setmyshortdescription(self, params: dict[str, Any], files: Any) -> bool:
        return self._set_text(params, "short_description", 120, self.menus.short_descriptions)

    def _set_text(
        self, params: dict[str, Any], name: str, limit: int, into: dict[str, str]
    ) -> bool:
        text = str(params.get(name) or "")
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {name.upper()}_INVALID")
        into[str(params.get("language_code") or "")] = text
        return True


def force_reply_of(params: dict[str, Any]) -> dict[str, Any] | None:
    """The ForceReply of a sendMessage request, checked as Telegram checks it (None if none)."""
    markup = parse_markup(params.get("reply_markup"))
    if markup is None or "force_reply" not in markup:
        return None
    if markup["force_reply"] is not True:
        raise ApiError(400, "Bad Request: force_reply must be True")
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and not 1 <= len(str(placeholder)) <= 64:
        raise ApiError(400, "Bad Request: input_field_placeholder must be 1-64 characters")
    if not isinstance(markup.get("selective", False), bool):
        raise ApiError(400, "Bad Request: selective must be a Boolean")
    return markup


NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
