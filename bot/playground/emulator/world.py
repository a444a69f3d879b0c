"""The emulated Telegram: chats, people, messages, updates, and the bot's requests."""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bot.playground.emulator.interactive import NOT_MODIFIED, InteractiveMixin, parse_markup
from bot.playground.emulator.polls import PollsMixin
from bot.playground.emulator.spec import check_request, load_spec
from bot.playground.emulator.telegram_html import EntityError, check_html, utf16_length

BOT_ID = 7000000001
BOT_USERNAME = "SechsClusterTestBot"
TOKEN = f"{BOT_ID}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_supergroup_ids = itertools.count(1001234567890)


class ApiError(Exception):
    """A refusal as Telegram sends it."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


class DropConnection(Exception):
    """Close the connection without answering (an outage as the client sees it)."""


@dataclass
class Person:
    id: int
    first_name: str
    language_code: str = "de"
    is_bot: bool = False
    username: str | None = None
    last_name: str | None = None

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_bot:
            data["username"] = f"{self.first_name}Bot"
        elif self.username:
            data["username"] = self.username
        return data


BOT = Person(BOT_ID, "Sechs-Cluster-Bot", language_code="", is_bot=True)


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    sender: Person | None
    date: int
    text: str | None = None
    caption: str | None = None
    reply_to: int | None = None
    thread_id: int | None = None
    kind: str = "text"
    file_name: str | None = None
    file_bytes: bytes | None = None
    parse_mode: str | None = None
    reactions: list[str] = field(default_factory=list)
    delivered: bool = False
    sender_chat: dict[str, Any] | None = None
    service: dict[str, Any] | None = None
    edited: bool = False
    reply_markup: dict[str, Any] | None = None
    edits: int = 0  # how often the bot edited it (text or markup)


@dataclass
class Chat:
    id: int
    type: str
    title: str
    owner: Person | None = None
    admins: set[int] = field(default_factory=set)
    is_forum: bool = False
    bot_member: bool = True
    migrated_to: int | None = None
    reactions_enabled: bool = True
    can_send: bool = True
    bot_admin: bool = False  # the bot is an administrator (chat_member updates, its rights)
    bot_can_pin: bool = True  # as an administrator: the right to pin
    # the chat's permissions let every member pin (Telegram's default for a new group)
    members_can_pin: bool = True
    topics: set[int] = field(default_factory=set)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_id: int = 1
    removed: set[int] = field(default_factory=set)  # people removed from the group (kicked)

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.title
        else:
            data["title"] = self.title
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class Fault:
    """Refuse the next `count` calls of `method` ("*" for any) in one way.

    With `chat_id`, only calls for that chat; a "429" for one chat then floods it as Telegram
    does: every post to it is answered 429 until `retry_after` seconds have passed.
    """

    method: str
    kind: str  # "429", "500", "502", "drop", "timeout"
    count: int = 1
    retry_after: int = 1
    delay: float = 0.0
    chat_id: int | None = None


def _is_post(method: str) -> bool:
    name = method.lower()
    return name.startswith(("send", "copy", "forward")) and name != "sendchataction"


def _is_edit(method: str) -> bool:
    return method.lower().startswith("edit")


@dataclass
class FloodControl:
    """Telegram's flood limits: per group, per bot, and chats told to wait.

    Posts count against 20 a minute per group and 30 a second overall; edits count too, against
    the overall budget and a looser one per group (`group_edit_limit`). Enforcement of the
    limits is off unless a test turns it on (`enforced = True`), and a test may shorten
    `group_window` to see a minute's behaviour in seconds. Flooded chats (from a Fault for one
    chat) are refused either way.
    """

    enforced: bool = False
    group_limit: int = 20
    group_edit_limit: int = 60
    group_window: float = 60.0
    overall_limit: int = 30
    overall_window: float = 1.0
    flooded_until: dict[int, float] = field(default_factory=dict)
    posts: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, chat id)
    edits: list[tuple[float, int]] = field(default_factory=list)
    _group_sent: dict[int, deque[float]] = field(default_factory=dict)
    _group_edited: dict[int, deque[float]] = field(default_factory=dict)
    _overall_sent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def flood(self, chat_id: int, seconds: float) -> None:
        with self._lock:
            self.flooded_until[chat_id] = time.monotonic() + seconds

    def check(self, method: str, params: dict[str, Any]) -> None:
        """Count a post or an edit, or refuse it with 429 and retry_after as Telegram would."""
        post, edit = _is_post(method), _is_edit(method)
        if not (post or edit):
            return
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            return
        with self._lock:
            now = time.monotonic()
            if post and (wait := self.flooded_until.get(chat_id, 0.0) - now) > 0:
                raise _too_many(wait)
            if self.enforced:
                limits = [(self._overall_sent, self.overall_limit, self.overall_window)]
                if chat_id < 0:
                    per_group, limit = (
                        (self._group_sent, self.group_limit)
                        if post
                        else (self._group_edited, self.group_edit_limit)
                    )
                    group = per_group.setdefault(chat_id, deque())
                    limits.append((group, limit, self.group_window))
                for sent, limit, window in limits:
                    while sent and sent[0] <= now - window:
                        sent.popleft()
                    if len(sent) >= limit:
                        raise _too_many(sent[0] + window - now)
                for sent, _, _ in limits:
                    sent.append(now)
            (self.posts if post else self.edits).append((now, chat_id))

    def most_per_window(self, chat_id: int, window: float) -> int:
        """The most posts to the chat that arrived within any `window` seconds."""
        with self._lock:
            times = [t for t, chat in self.posts if chat == chat_id]
        return max((sum(1 for t in times if s <= t < s + window) for s in times), default=0)


def _upgraded(chat: Chat) -> ApiError:
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": chat.migrated_to},
    )


def _too_many(wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    status: int
    description: str = ""


class World(InteractiveMixin, PollsMixin):
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
        self.allowed_reactions = _allowed_reactions()
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

    def api_deletewebhook(self, params: dict[str, Any], files: Any) -> bool:
        self.webhook = None
        return True

    def api_setwebhook(self, params: dict[str, Any], files: Any) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.startswith(("http://127.0.0.1", "https://")):
            raise ApiError(
                400, "Bad Request: bad webhook: an HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        connections = int(params.get("max_connections") or 40)
        self.webhook = {"url": url, "secret": secret, "max_connections": connections}
        if self._webhook_thread is None:
            self._webhook_thread = threading.Thread(target=self._deliver_to_webhook, daemon=True)
            self._webhook_thread.start()
        return True

    def _deliver_to_webhook(self) -> None:
        """Telegram's side of webhook mode: POST each update until the bot answers 200.

        As Telegram's Bot API server does, one chat's updates go one at a time and in order,
        while up to `max_connections` chats are delivered at once. With `webhook_targets`
        (several processes behind one URL) the targets are taken in turn, so an update that
        failed goes to the next one.
        """
        from concurrent.futures import ThreadPoolExecutor

        import httpx

        busy: set[object] = set()
        turns = itertools.count()
        with (
            httpx.Client(
                timeout=self.webhook_timeout,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            ) as client,
            ThreadPoolExecutor(max_workers=100) as pool,
        ):
            while True:
                with self.updates_ready:
                    picked = self._next_for_webhook(busy)
                    while picked is None:
                        self.updates_ready.wait(0.5)
                        picked = self._next_for_webhook(busy)
                    update, queue, hook = picked
                    busy.add(queue)
                pool.submit(self._post_update, client, update, queue, hook, next(turns), busy)

    def _next_for_webhook(
        self, busy: set[object]
    ) -> tuple[dict[str, Any], object, dict[str, Any]] | None:
        """The oldest update of a chat with nothing in flight (called under the lock)."""
        if not self.webhook or len(busy) >= self.webhook["max_connections"]:
            return None
        for update in self.updates:
            queue = _queue_of(update)
            if queue not in busy:
                return update, queue, dict(self.webhook)
        return None

    def _post_update(
        self,
        client: Any,
        update: dict[str, Any],
        queue: object,
        hook: dict[str, Any],
        turn: int,
        busy: set[object],
    ) -> None:
        targets = self.webhook_targets or [hook["url"]]
        delivered = self._post_once(client, targets[turn % len(targets)], update, hook) == 200
        if not delivered:
            time.sleep(0.3)
        with self.updates_ready:
            if delivered:
                self.updates = [u for u in self.updates if u is not update]
            busy.discard(queue)
            self.updates_ready.notify_all()
        every = self.webhook_repeat_every
        if delivered and every and update["update_id"] % every == 0:
            self._post_once(client, targets[(turn + 1) % len(targets)], update, hook)

    def _post_once(
        self, client: Any, url: str, update: dict[str, Any], hook: dict[str, Any]
    ) -> int:
        import httpx

        headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret"]} if hook["secret"] else {}
        try:
            status = int(client.post(url, json=update, headers=headers).status_code)
        except httpx.HTTPError:
            status = 0
        with self.lock:
            self.webhook_posts.append((int(update["update_id"]), url, status))
        return status

    def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), 5.0)
        deadline = time.monotonic() + timeout
        with self.updates_ready:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                self.fetched_up_to = max(self.fetched_up_to, offset)
            while not self.updates and time.monotonic() < deadline:
                self.updates_ready.wait(deadline - time.monotonic())
            return [json.loads(json.dumps(u)) for u in self.updates[:limit]]

    def api_getchat(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._chat(params)
        return {**chat.json(), "accent_color_id": 0, "max_reaction_count": 11}

    def api_getchatadministrators(self, params: dict[str, Any], files: Any) -> list[dict[str, Any]]:
        chat = self._chat(params)
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
        chat = self._chat(params)
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

    def api_sendmessage(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._writable_chat(params)
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
        chat = self._chat(params)
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
        chat = self._writable_chat(params)
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
        chat = self._writable_chat(params)
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
        if message.text is not None and _command_entities(message.text):
            return True
        if message.reply_to is not None:
            target = chat.messages.get(message.reply_to)
            return target is not None and target.sender is BOT
        return False

    def _push(self, payload: dict[str, Any]) -> None:
        with self.updates_ready:
            self.updates.append({"update_id": self.next_update_id, **payload})
            self.next_update_id += 1
            self.updates_ready.notify_all()

    def _member_update(self, chat: Chat, by: Person, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": BOT.json()}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self._push(
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
            entities = _command_entities(message.text)
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


COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")


def _chat_id_of(params: dict[str, Any]) -> int | None:
    try:
        return int(params["chat_id"])
    except (KeyError, ValueError):
        return None


def _queue_of(update: dict[str, Any]) -> object:
    """The chat whose updates Telegram delivers one after another (or the update alone)."""
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict):
                return chat["id"]
    return ("update", update["update_id"])


def _command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks `/word` or `/word@bot` at the start as a bot command."""
    match = COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group(0))}]


def _administrator(person: Person) -> dict[str, Any]:
    spec = json.loads(json.dumps(_administrator_fields()))
    data: dict[str, Any] = dict.fromkeys(spec, False)
    data.update({"status": "administrator", "user": person.json(), "can_be_edited": False})
    return data


def _administrator_fields() -> list[str]:
    from bot.playground.emulator.spec import SPEC_PATH

    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return [
        f["name"]
        for f in raw["types"]["ChatMemberAdministrator"]["fields"]
        if f["required"] and f["types"] == ["Boolean"]
    ]


def _allowed_reactions() -> set[str]:
    from bot.playground.emulator.spec import SPEC_PATH

    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    for entry in raw["types"]["ReactionTypeEmoji"]["fields"]:
        if entry["name"] == "emoji":
            return set(re.findall(r'"([^"]+)"', entry["description"]))
    raise AssertionError("ReactionTypeEmoji.emoji not in the spec")
