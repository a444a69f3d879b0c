"""The emulated Telegram: chats, people, messages, updates, and the bot's requests."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from bot.playground.emulator.flood import FloodControl
from bot.playground.emulator.interactive import InteractiveMixin
from bot.playground.emulator.members import MembersMixin
from bot.playground.emulator.messages import MessagesMixin, spec_reactions
from bot.playground.emulator.model import (
    BOT,
    BOT_USERNAME,
    ApiError,
    Chat,
    DropConnection,
    Fault,
    Person,
    Request,
    StoredMessage,
)
from bot.playground.emulator.polls import PollsMixin
from bot.playground.emulator.spec import check_request, load_spec
from bot.playground.emulator.webhook import WebhookMixin

_supergroup_ids = itertools.count(1001234567890)


def _upgraded(chat: Chat) -> ApiError:
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": chat.migrated_to},
    )


class World(MessagesMixin, MembersMixin, WebhookMixin, InteractiveMixin, PollsMixin):
    """Everything the emulated Telegram knows; thread-safe."""

    def __init__(self) -> None:
        load_spec()
        self.lock = threading.RLock()
        self.updates_ready = threading.Condition(self.lock)
        self.chats: dict[int, Chat] = {}
        self.people: dict[int, Person] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.flood = FloodControl()
        self.fetched_up_to = 0
        self.latency = 0.0  # seconds each call (but getUpdates) takes, like Telegram's 50-100 ms
        self.webhook: dict[str, Any] | None = None
        self._webhook_thread: threading.Thread | None = None
        # several bot processes behind one webhook URL: their URLs, taken in turn
        self.webhook_targets: list[str] = []
        self.webhook_timeout = 10.0  # seconds Telegram waits for the bot's answer
        self.webhook_repeat_every = 0  # post every n-th answered update once more (redelivery)
        self.webhook_posts: list[tuple[int, str, int]] = []  # update_id, url, status (0: none)
        self.allowed_reactions = spec_reactions()
        self._init_interactive()
        self._init_polls()
        self._next_group_id = itertools.count(400000001)

    # ---- setting the scene -----------------------------------------------------------------

    def person(
        self, person_id: int, first_name: str, language_code: str = "de", *, is_bot: bool = False
    ) -> Person:
        with self.lock:
            person = Person(person_id, first_name, language_code, is_bot=is_bot)
            self.people[person_id] = person
            return person

    def group(
        self,
        title: str,
        owner: Person,
        admins: tuple[Person, ...] = (),
        *,
        supergroup: bool = False,
        forum: bool = False,
        bot_admin: bool = False,
    ) -> Chat:
        with self.lock:
            if supergroup or forum:
                chat_id = -next(_supergroup_ids)
                kind = "supergroup"
            else:
                chat_id = -next(self._next_group_id)
                kind = "group"
            chat = Chat(
                chat_id,
                kind,
                title,
                owner=owner,
                admins={a.id for a in admins},
                is_forum=forum,
                bot_admin=bot_admin,
            )
            self.chats[chat_id] = chat
            return chat

    def private(self, person: Person) -> Chat:
        with self.lock:
            chat = self.chats.get(person.id)
            if chat is None:
                chat = Chat(person.id, "private", person.first_name)
                self.chats[person.id] = chat
            return chat

    def create_topic(self, chat: Chat, name: str) -> int:
        with self.lock:
            message = self._store(
                chat, None, service={"forum_topic_created": {"name": name, "icon_color": 7322096}}
            )
            chat.topics.add(message.message_id)
            return message.message_id

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    # ---- people act ------------------------------------------------------------------------

    def send(
        self,
        chat: Chat,
        person: Person,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        thread: int | None = None,
        caption: str | None = None,
        photo: bool = False,
        sticker: bool = False,
        sender_chat: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """A person writes in a chat; the bot gets it if privacy mode lets it through."""
        with self.lock:
            if reply_to in chat.messages and thread is None and chat.is_forum:
                thread = chat.messages[reply_to].thread_id
            if chat.type == "supergroup" and not chat.is_forum and reply_to in chat.messages:
                root = chat.messages[reply_to]
                thread = root.thread_id or root.message_id
            kind = "photo" if photo else "sticker" if sticker else "text"
            message = self._store(
                chat,
                person,
                text=text,
                caption=caption,
                reply_to=reply_to,
                thread_id=thread,
                kind=kind,
                sender_chat=sender_chat,
            )
            if self._bot_sees(chat, message):
                message.delivered = True
                self._push({"message": self.message_json(chat, message)})
            return message

    def edit(self, chat: Chat, message: StoredMessage, text: str) -> None:
        """The author edits a message; the bot hears of it if it saw the original."""
        with self.lock:
            if message.kind == "photo":
                message.caption = text
            else:
                message.text = text
            message.edited = True
            if message.delivered or self._bot_sees(chat, message):
                message.delivered = True
                data = self.message_json(chat, message)
                data["edit_date"] = int(time.time())
                self._push({"edited_message": data})

    def redeliver(self, chat: Chat, message: StoredMessage) -> None:
        """Telegram sends the same update again (as after a lost confirmation)."""
        with self.lock:
            self._push({"message": self.message_json(chat, message)})

    def remove_bot(self, chat: Chat, by: Person, *, kicked: bool = True) -> None:
        with self.lock:
            chat.bot_member = False
            status = "kicked" if kicked else "left"
            self._member_update(chat, by, "member", status)

    def add_bot(self, chat: Chat, by: Person, *, start_param: str | None = None) -> None:
        """Someone adds the bot. Through a `?startgroup=<param>` link (`start_param`), Telegram
        then sends `/start@<bot> <param>` into the group in that person's name, as it does."""
        with self.lock:
            chat.bot_member = True
            self._member_update(chat, by, "left", "member")
            if start_param is not None:
                self.send(chat, by, f"/start@{BOT_USERNAME} {start_param}")

    def delete(self, chat: Chat, message_id: int) -> None:
        """Someone deletes a message (a card, or their own reply)."""
        with self.lock:
            self.chats[chat.id].messages.pop(message_id, None)

    def migrate(self, chat: Chat, *, notify: bool = True) -> Chat:
        """Upgrade a basic group to a supergroup: a new chat whose message ids start again at 1.

        As Telegram does: the old chat keeps its messages (and ends with `migrate_to_chat_id`),
        the new one begins with `migrate_from_chat_id` as its message 1, and every later call
        to the old id is refused with `migrate_to_chat_id`. With notify=False the bot learns of
        it only from the error of its next call.
        """
        with self.lock:
            new = Chat(
                -next(_supergroup_ids),
                "supergroup",
                chat.title,
                owner=chat.owner,
                admins=set(chat.admins),
                bot_admin=chat.bot_admin,
                bot_can_pin=chat.bot_can_pin,
                members_can_pin=chat.members_can_pin,
                reactions_enabled=chat.reactions_enabled,
            )
            self.chats[new.id] = new
            old_note = self._store(chat, chat.owner, service={"migrate_to_chat_id": new.id})
            new_note = self._store(new, chat.owner, service={"migrate_from_chat_id": chat.id})
            chat.migrated_to = new.id
            if notify:
                self._push({"message": self.message_json(chat, old_note)})
                self._push({"message": self.message_json(new, new_note)})
            return new

    # ---- what the bot did ------------------------------------------------------------------

    def bot_messages(self, chat: Chat, thread: int | None = None) -> list[StoredMessage]:
        with self.lock:
            current = self.chats[chat.id]
            return [
                m
                for m in current.messages.values()
                if m.sender is BOT and (thread is None or (m.thread_id or 0) == thread)
            ]

    def bot_texts(self, chat: Chat, thread: int | None = None) -> list[str]:
        return [m.text or m.caption or "" for m in self.bot_messages(chat, thread)]

    def calls(self, method: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method.lower() == method.lower()]

    def refusals(self) -> list[Request]:
        """Requests Telegram would have refused (not counting injected faults)."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r.status >= 400 and not r.description.startswith("injected")
            ]

    def pending_updates(self) -> int:
        with self.lock:
            return len(self.updates)

    # ---- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> dict[str, Any]:
        """Answer one Bot API call, or raise ApiError / DropConnection."""
        fault = self._take_fault(method, params)
        if fault is not None:
            with self.lock:
                self.requests.append(Request(method, params, 599, f"injected {fault.kind}"))
            if fault.kind == "429" and fault.chat_id is not None:
                self.flood.flood(fault.chat_id, fault.retry_after)
            if fault.kind == "timeout":
                time.sleep(fault.delay)
                raise DropConnection
            if fault.kind == "drop":
                raise DropConnection
            if fault.kind == "429":
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            raise ApiError(int(fault.kind), "Internal Server Error")
        all_params = {**params, **dict.fromkeys(files, "<file>")}
        problems = check_request(method, all_params)
        with self.lock:
            self.violations.extend(problems)
        handler = getattr(self, "api_" + method.lower(), None)
        try:
            if problems:
                raise ApiError(400, "Bad Request: " + "; ".join(problems))
            if handler is None:
                raise ApiError(404, "Not Found")
            self.flood.check(method, params)
            if method.lower() == "getupdates":
                result = handler(params)
            else:
                with self.lock:
                    result = handler(params, files)
        except ApiError as exc:
            with self.lock:
                self.requests.append(Request(method, params, exc.code, exc.description))
            raise
        with self.lock:
            self.requests.append(Request(method, params, 200))
        return {"ok": True, "result": result}

    def api_getme(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return {
            **BOT.json(),
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.count > 0
                    and fault.method.lower() in (method.lower(), "*")
                    and fault.chat_id in (None, _chat_id_of(params))
                ):
                    fault.count -= 1
                    return fault
            return None

    def _chat(self, params: dict[str, Any]) -> Chat:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError) as exc:
            raise ApiError(400, "Bad Request: chat not found") from exc
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise _upgraded(chat)
        return chat

    def _writable_chat(self, params: dict[str, Any]) -> Chat:
        chat = self._chat(params)
        if not chat.bot_member:
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        if not chat.can_send:
            raise ApiError(400, "Bad Request: not enough rights to send text messages to the chat")
        return chat

    def _push(self, payload: dict[str, Any]) -> None:
        with self.updates_ready:
            self.updates.append({"update_id": self.next_update_id, **payload})
            self.next_update_id += 1
            self.updates_ready.notify_all()


def _chat_id_of(params: dict[str, Any]) -> int | None:
    try:
        return int(params["chat_id"])
    except (KeyError, ValueError):
        return None
