"""The bot's messages: sending text and files, editing, reacting, and how a message looks as JSON.

Texts are checked as Telegram does (HTML entities, length, emptiness); replies and threads must
exist; inline keyboards must carry valid callback data and no `web_app` buttons outside private chats.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from bot.playground.emulator.interactive import NOT_MODIFIED, parse_markup
from bot.playground.emulator.model import (
    BOT,
    CAPTION_LIMIT,
    TEXT_LIMIT,
    ApiError,
    Chat,
    Person,
    StoredMessage,
    command_entities,
)
from bot.playground.emulator.spec import SPEC_PATH
from bot.playground.emulator.telegram_html import EntityError, check_html, utf16_length


class MessagesMixin:
    """sendMessage, sendPhoto, sendDocument, setMessageReaction and editMessageText."""

    allowed_reactions: set[str]

    def api_sendmessage(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        text = str(params.get("text", ""))
        shown = self._check_text(text, params.get("parse_mode"), TEXT_LIMIT, "message text")
        del shown
        thread, reply_to = self._placement(chat, params)
        self._check_markup(params, chat)
        message = self._store(
            chat,
            BOT,
            text=text,
            reply_to=reply_to,
            thread_id=thread,
            parse_mode=params.get("parse_mode"),
            reply_markup=parse_markup(params.get("reply_markup")),
        )
        return self.message_json(chat, message)

    def api_sendphoto(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> dict[str, Any]:
        return self._send_file(params, files, "photo")

    def api_senddocument(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> dict[str, Any]:
        return self._send_file(params, files, "document")

    def api_setmessagereaction(self, params: dict[str, Any], files: Any) -> bool:
        chat = self._chat(params)  # type: ignore[attr-defined]
        if not chat.bot_member:
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        message = chat.messages.get(int(params["message_id"]))
        if message is None:
            raise ApiError(400, "Bad Request: message to react not found")
        if not chat.reactions_enabled:
            raise ApiError(400, "Bad Request: REACTION_INVALID")
        reactions = json.loads(params.get("reaction") or "[]")
        for reaction in reactions:
            if (
                reaction.get("type") != "emoji"
                or reaction.get("emoji") not in self.allowed_reactions
            ):
                raise ApiError(400, "Bad Request: REACTION_INVALID")
        message.reactions = [r["emoji"] for r in reactions]
        return True

    def api_editmessagetext(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        message = chat.messages.get(int(params["message_id"]))
        if message is None or message.sender is not BOT:
            raise ApiError(400, "Bad Request: message to edit not found")
        text = str(params.get("text", ""))
        self._check_text(text, params.get("parse_mode"), TEXT_LIMIT, "message text")
        self._check_markup(params, chat)
        markup = parse_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.text = text
        message.reply_markup = markup
        message.edits += 1
        return self.message_json(chat, message)

    # ---- internals -------------------------------------------------------------------------

    def _check_text(self, text: str, parse_mode: object, limit: int, what: str) -> str:
        shown = text
        if parse_mode == "HTML":
            try:
                shown = check_html(text)
            except EntityError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        elif parse_mode not in (None, ""):
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        if what == "message text" and not shown.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(shown) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return shown

    def _placement(self, chat: Chat, params: dict[str, Any]) -> tuple[int | None, int | None]:
        thread = params.get("message_thread_id")
        thread_id = int(thread) if thread not in (None, "") else None
        if thread_id is not None:
            if chat.type != "supergroup":
                raise ApiError(400, "Bad Request: message thread not found")
            if chat.is_forum and thread_id not in chat.topics:
                raise ApiError(400, "Bad Request: message thread not found")
            if not chat.is_forum and thread_id not in chat.messages:
                raise ApiError(400, "Bad Request: message thread not found")
        reply_to = None
        raw = params.get("reply_parameters")
        if raw:
            reply = json.loads(raw)
            target = chat.messages.get(int(reply["message_id"]))
            if target is None:
                if not reply.get("allow_sending_without_reply"):
                    raise ApiError(400, "Bad Request: message to be replied not found")
            else:
                reply_to = target.message_id
                if chat.is_forum and thread_id is None and target.thread_id:
                    thread_id = target.thread_id
        return thread_id, reply_to

    def _check_markup(self, params: dict[str, Any], chat: Chat) -> None:
        raw = params.get("reply_markup")
        if not raw:
            return
        markup = json.loads(raw)
        for row in markup.get("inline_keyboard", []):
            for button in row:
                # Mini Apps open from `web_app` buttons only in private chats (TELEGRAM.md)
                if "web_app" in button and chat.type != "private":
                    raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _send_file(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]], kind: str
    ) -> dict[str, Any]:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        if kind not in files:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        caption = params.get("caption")
        if caption is not None:
            self._check_text(
                str(caption), params.get("parse_mode"), CAPTION_LIMIT, "message caption"
            )
        thread, reply_to = self._placement(chat, params)
        name, content = files[kind]
        if not content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        message = self._store(
            chat,
            BOT,
            caption=caption,
            thread_id=thread,
            reply_to=reply_to,
            kind=kind,
            file_name=name,
            file_bytes=content,
            parse_mode=params.get("parse_mode"),
        )
        return self.message_json(chat, message)

    def _store(self, chat: Chat, sender: Person | None, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            message_id=chat.next_id, chat_id=chat.id, sender=sender, date=int(time.time()), **fields
        )
        chat.next_id += 1
        chat.messages[message.message_id] = message
        return message

    def _bot_sees(self, chat: Chat, message: StoredMessage) -> bool:
        if not chat.bot_member:
            return False
        if chat.type == "private":
            return True
        if message.text is not None and command_entities(message.text):
            return True
        if message.reply_to is not None:
            target = chat.messages.get(message.reply_to)
            return target is not None and target.sender is BOT
        return False

    def message_json(
        self, chat: Chat, message: StoredMessage, *, nested: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.json(),
        }
        if message.sender is not None:
            data["from"] = message.sender.json()
        if message.sender_chat is not None:
            data["sender_chat"] = message.sender_chat
        if message.text is not None:
            data["text"] = message.text
            entities = command_entities(message.text)
            if entities:
                data["entities"] = entities
        if message.caption is not None:
            data["caption"] = message.caption
        if message.kind == "photo":
            data["photo"] = [
                {
                    "file_id": f"photo{message.message_id}",
                    "file_unique_id": f"u{message.message_id}",
                    "width": 90,
                    "height": 90,
                }
            ]
        if message.kind == "document":
            data["document"] = {
                "file_id": f"doc{message.message_id}",
                "file_unique_id": f"d{message.message_id}",
                "file_name": message.file_name,
            }
        if message.kind == "sticker":
            data["sticker"] = {
                "file_id": f"st{message.message_id}",
                "file_unique_id": f"s{message.message_id}",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        if message.thread_id is not None:
            data["message_thread_id"] = message.thread_id
            if chat.is_forum:
                data["is_topic_message"] = True
        if message.service is not None:
            data.update(message.service)
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.reply_to is not None and not nested:
            target = chat.messages.get(message.reply_to)
            if target is not None:
                data["reply_to_message"] = self.message_json(chat, target, nested=True)
        return data


def spec_reactions() -> set[str]:
    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    for entry in raw["types"]["ReactionTypeEmoji"]["fields"]:
        if entry["name"] == "emoji":
            return set(re.findall(r'"([^"]+)"', entry["description"]))
    raise AssertionError("ReactionTypeEmoji.emoji not in the spec")
