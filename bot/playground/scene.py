"""The playground's stand-in Telegram and the real bot process that talks to it.

The scene: one group with three people (the first its owner, so a moderator), the bot added to
it by the owner. The bot is `python -m bot` itself — unchanged — in a child process whose
`TELEGRAM_API_BASE_URL` points at the emulator on 127.0.0.1 and whose database is the
playground's own SQLite file, so no request reaches Telegram and no real board is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.miniapp.initdata import sign
from bot.playground.emulator import BotApiEmulator, Chat, Person, World
from bot.playground.emulator.interactive import buttons_of
from bot.playground.emulator.model import BOT, BOT_USERNAME, TOKEN, StoredMessage

PLAYGROUND_DATABASE_FILE = "sechs-cluster-bot.playground.sqlite3"
MINIAPP_SHORT_NAME = "board"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
POLLING_STARTED = "starting long polling"
MEMBER_IDS = (101, 102, 103)
_CARD = re.compile(r"<b>(\d+)\. ")
# the environment a deploy may have set for the real bot: none of it reaches the child
_NOT_INHERITED = (
    "TELEGRAM_",
    "DATABASE_",
    "WEBHOOK_",
    "HEALTH_",
    "HTTP_",
    "MINIAPP_",
    "PLAYGROUND_",
    "SECHS_CLUSTER_",
)


class BotStartError(Exception):
    """The bot process stopped while starting; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def miniapp_start_token(url: str) -> str | None:
    """The `startapp` token of a Mini App link of the playground's bot, else None."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "https" or parsed.netloc != "t.me":
        return None
    if not parsed.path.lower().startswith(f"/{BOT_USERNAME.lower()}/"):
        return None
    values = urllib.parse.parse_qs(parsed.query).get("startapp")
    return values[0] if values else None


@dataclass
class Refusal:
    """A call the stand-in refused as Telegram would (what a developer must see)."""

    method: str
    status: int
    description: str


class Scene:
    """World, emulator and bot process of one playground run; `reset` starts over."""

    def __init__(
        self, database: Path, names: tuple[str, str, str], python: str = sys.executable
    ) -> None:
        self.database = database
        self.names = names
        self.python = python
        self.miniapp_port = free_port()
        self.lock = threading.RLock()
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix="playground-"))
        self.emulator = BotApiEmulator(World())
        self.world = self.emulator.world
        self.group: Chat
        self.members: list[Person] = []
        self.failure: str | None = None
        self.polling = False

    # ---- the run -------------------------------------------------------------------------

    def start(self, *, run_bot: bool = True) -> None:
        """A new stand-in with the group and its members; the bot started (unless not wanted).

        The stand-in keeps no chat history across starts, so neither does the bot: each start
        begins with an empty playground database (one that matched the history would otherwise
        point at cards the chat no longer has).
        """
        with self.lock:
            self._forget_database()
            self.world = World()
            self.emulator = BotApiEmulator(self.world).start()
            self.members = [
                self.world.person(person_id, name)
                for person_id, name in zip(MEMBER_IDS, self.names, strict=True)
            ]
            self.group = self.world.group("Probelauf", owner=self.members[0])
            self.failure = None
            self.polling = False
            if run_bot:
                self._start_bot()
            self.world.add_bot(self.group, self.members[0])

    def _start_bot(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": self.emulator.base_url,
                "DATABASE_URL": f"sqlite:///{self.database}",
                "PYTHONUNBUFFERED": "1",
                # the same `bot` package as the playground's, wherever it was started from
                "PYTHONPATH": os.pathsep.join(
                    [str(PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
                # read by the Mini App (SPEC §13) where the bot has it; ignored where not
                "HTTP_PORT": str(self.miniapp_port),
                "HTTP_LISTEN": "127.0.0.1",
                "MINIAPP_URL": f"http://127.0.0.1:{self.miniapp_port}/app/",
                "MINIAPP_SHORT_NAME": MINIAPP_SHORT_NAME,
            }
        )
        log = (self.workdir / "bot.log").open("ab")
        # the working directory is the playground's own: a `.env` of the real bot is not read
        self.process = subprocess.Popen(
            [self.python, "-m", "bot"],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def log(self) -> str:
        path = self.workdir / "bot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def ready(self) -> bool:
        """The bot polls the stand-in (False while it starts; BotStartError if it stopped)."""
        process = self.process
        if process is None:
            return False
        if process.poll() is not None:
            tail = "\n".join(self.log().splitlines()[-15:])
            self.failure = tail
            raise BotStartError(tail)
        if not self.polling:  # read the log until it says so, not on every look after
            self.polling = POLLING_STARTED in self.log()
        return self.polling

    def stop(self) -> None:
        with self.lock:
            process, self.process = self.process, None
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
            self.emulator.stop()

    def reset(self) -> None:
        """Start over: a new stand-in, an empty playground database, the bot started again."""
        with self.lock:
            self.stop()
            self.start()

    def _forget_database(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.database}{suffix}").unlink()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- what people do ------------------------------------------------------------------

    def member(self, index: int) -> Person:
        if not 0 <= index < len(self.members):
            raise LookupError("no such member")
        return self.members[index]

    def rename(self, index: int, name: str) -> None:
        name = " ".join(name.split())[:64]
        if not name:
            raise ValueError("a name is needed")
        with self.world.lock:
            self.member(index).first_name = name

    def say(self, index: int, text: str, reply_to: int | None = None) -> int:
        if not text.strip():
            raise ValueError("nothing to send")
        with self.world.lock:
            if reply_to is not None and reply_to not in self.group.messages:
                reply_to = None
            message = self.world.send(self.group, self.member(index), text, reply_to=reply_to)
            return message.message_id

    def press(self, index: int, message_id: int, data: str) -> None:
        with self.world.lock:
            message = self.group.messages.get(message_id)
            if message is None:
                raise LookupError("that message is gone")
            if data not in [b.get("callback_data") for b in buttons_of(message.reply_markup)]:
                raise LookupError("no such button")
            self.world.press(self.group, self.member(index), message, data)

    def answer_poll(self, index: int, message_id: int, options: list[int]) -> None:
        """A member taps options of a bot's poll: in a poll with several answers each tap adds
        or removes that option from the member's current choice, as in Telegram's apps."""
        with self.world.lock:
            poll = self.world.poll_at(self.group, message_id)
            if poll is None:
                raise LookupError("that message has no poll")
            person = self.member(index)
            chosen = list(poll.choices.get(person.id, []))
            if poll.allows_multiple_answers:
                for option in options:
                    chosen.remove(option) if option in chosen else chosen.append(option)
            else:
                chosen = options[:1]
            try:
                self.world.answer_poll(person, poll, sorted(chosen))
            except AssertionError as exc:  # what Telegram's apps do not let a person do
                raise LookupError(str(exc)) from exc

    def demo(self, entries: list[str]) -> bool:
        """The two members write entries to the newest card; False when there is no card."""
        with self.world.lock:
            cards = [
                m
                for m in self.group.messages.values()
                if m.sender is BOT and _CARD.match(m.text or "")
            ]
            if not cards:
                return False
            card = cards[-1].message_id
            for turn, text in enumerate(entries):
                self.world.send(self.group, self.members[1 + turn % 2], text, reply_to=card)
            return True

    def miniapp_src(self, index: int, start: str) -> str:
        """The Mini App's address with signed launch data, as Telegram opens it (§13)."""
        person = self.member(index)
        user = {
            "id": person.id,
            "first_name": person.first_name,
            "language_code": person.language_code,
        }
        fields = {
            "auth_date": str(int(time.time())),
            "chat_instance": str(abs(self.group.id)),
            "chat_type": self.group.type,
            "start_param": start,
            "user": json.dumps(user, separators=(",", ":")),
        }
        data = urllib.parse.quote(sign(fields, TOKEN), safe="")
        return (
            f"http://127.0.0.1:{self.miniapp_port}/app/#tgWebAppData={data}"
            "&tgWebAppVersion=8.0&tgWebAppPlatform=web"
        )

    # ---- what the page draws -------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        with self.world.lock:
            chat = self.world.chats[self.group.id]
            pins = self.world.pinned.get(chat.id, [])
            refusals = [
                Refusal(r.method, r.status, r.description)
                for r in self.world.refusals()
                if r.method.lower() != "getupdates"
            ]
            return {
                "title": chat.title,
                "bot": {"id": BOT.id, "name": BOT.first_name, "username": BOT_USERNAME},
                "members": [
                    {"id": p.id, "name": p.first_name, "owner": i == 0}
                    for i, p in enumerate(self.members)
                ],
                "pinned": pins[-1] if pins and pins[-1] in chat.messages else None,
                "messages": [self._message(chat, m) for m in chat.messages.values()],
                "refusals": [r.__dict__ for r in refusals],
                "violations": list(self.world.violations),
            }

    def _message(self, chat: Chat, message: StoredMessage) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": message.message_id,
            "date": message.date,
            "from": (
                {"id": message.sender.id, "name": message.sender.first_name}
                if message.sender is not None
                else None
            ),
            "bot": message.sender is BOT,
            "kind": message.kind,
            "text": message.text,
            "caption": message.caption,
            "html": message.parse_mode == "HTML",
            "reply_to": message.reply_to,
            "markup": message.reply_markup,
            "reactions": list(message.reactions),
            "edited": message.edits > 0 or message.edited,
            "file_name": message.file_name,
        }
        if message.file_bytes is not None:
            shown["file"] = f"/api/file/{message.message_id}"
        if message.service is not None:
            shown["service"] = True
        poll = self.world.poll_at(chat, message.message_id)
        if poll is not None:  # the bot's polls (§15), with who chose what in the playground
            shown["poll"] = poll.json()
            shown["chosen"] = {str(who): picks for who, picks in poll.choices.items()}
        return shown

    def file(self, message_id: int) -> tuple[str, bytes] | None:
        with self.world.lock:
            message = self.world.chats[self.group.id].messages.get(message_id)
            if message is None or message.file_bytes is None:
                return None
            return message.file_name or "file", message.file_bytes
