"""Polls as Telegram runs them: `sendPoll` and `stopPoll` for the bot, and people answering.

A non-anonymous poll tells the bot each person's whole current choice as a `poll_answer`
(empty `option_ids`: the vote was taken back); an anonymous poll tells it nothing per person.
Either way the bot, which sent the poll, gets its new state as a `poll` update (counts only).
A closed poll takes no answers; a poll is stopped once.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from bot.playground.emulator.model import BOT, ApiError, Chat, Person, StoredMessage
from bot.playground.emulator.telegram_html import EntityError, check_html

POLL_OPTIONS = (1, 12)  # Telegram: 1–12 options
OPTION_LENGTH = (1, 100)  # Telegram: an option's text has 1–100 characters
QUESTION_LENGTH = (1, 300)
_poll_ids = itertools.count(5000000000000000001)


@dataclass
class PollState:
    """A poll the bot sent, and what each person chose in it."""

    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    is_anonymous: bool
    allows_multiple_answers: bool
    is_closed: bool = False
    choices: dict[int, list[int]] = field(default_factory=dict)
    stops: int = 0

    def json(self) -> dict[str, Any]:
        counts = [0] * len(self.options)
        for chosen in self.choices.values():
            for index in chosen:
                counts[index] += 1
        return {
            "id": self.id,
            "question": self.question,
            "options": [
                {"persistent_id": str(i), "text": text, "voter_count": counts[i]}
                for i, text in enumerate(self.options)
            ],
            "total_voter_count": sum(1 for chosen in self.choices.values() if chosen),
            "is_closed": self.is_closed,
            "is_anonymous": self.is_anonymous,
            "type": "regular",
            "allows_multiple_answers": self.allows_multiple_answers,
            "allows_revoting": True,
            "members_only": False,
        }


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _flag(value: object, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


class PollsMixin:
    """The World's polls (mixed into World; uses its lock, chats, _store, _push, message_json)."""

    polls: dict[str, PollState]

    def _init_polls(self) -> None:
        self.polls = {}

    # ---- the bot's side --------------------------------------------------------------------

    def api_sendpoll(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        question = str(params.get("question", ""))
        if not QUESTION_LENGTH[0] <= _length(question) <= QUESTION_LENGTH[1]:
            raise ApiError(400, "Bad Request: poll question length must not exceed 300")
        raw = params.get("options")
        options_json = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(options_json, list):
            raise ApiError(400, "Bad Request: POLL_ANSWERS_INVALID")
        options = [
            self._poll_text(option.get("text", ""), option.get("text_parse_mode"))
            if isinstance(option, dict)
            else str(option)
            for option in options_json
        ]
        question = self._poll_text(question, params.get("question_parse_mode"))
        if not POLL_OPTIONS[0] <= len(options) <= POLL_OPTIONS[1]:
            raise ApiError(400, "Bad Request: POLL_ANSWERS_INVALID")
        for option in options:
            if not OPTION_LENGTH[0] <= _length(option) <= OPTION_LENGTH[1]:
                raise ApiError(400, "Bad Request: POLL_ANSWER_INVALID")
        is_anonymous = _flag(params.get("is_anonymous"), True)
        if not is_anonymous and chat.type == "channel":
            raise ApiError(400, "Bad Request: non-anonymous polls can't be sent to channel chats")
        thread, reply_to = self._placement(chat, params)  # type: ignore[attr-defined]
        self._check_markup(params, chat)  # type: ignore[attr-defined]
        message = self._store(  # type: ignore[attr-defined]
            chat, BOT, kind="poll", thread_id=thread, reply_to=reply_to
        )
        poll = PollState(
            id=str(next(_poll_ids)),
            chat_id=chat.id,
            message_id=message.message_id,
            question=question,
            options=options,
            is_anonymous=is_anonymous,
            allows_multiple_answers=_flag(params.get("allows_multiple_answers"), False),
        )
        self.polls[poll.id] = poll
        return self._poll_message_json(chat, message, poll)

    def api_stoppoll(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = self._writable_chat(params)  # type: ignore[attr-defined]
        message_id = int(params["message_id"])
        message = chat.messages.get(message_id)
        poll = self.poll_at(chat, message_id)
        if message is None or message.sender is not BOT or poll is None:
            raise ApiError(400, "Bad Request: message with poll to stop not found")
        if poll.is_closed:
            raise ApiError(400, "Bad Request: poll has already been closed")
        poll.is_closed = True
        poll.stops += 1
        self._push({"poll": poll.json()})  # type: ignore[attr-defined]
        return poll.json()

    @staticmethod
    def _poll_text(text: object, parse_mode: object) -> str:
        """The text as shown: with HTML, tags are parsed (only custom emoji are kept, so the
        tags disappear) and a stray "<" is refused as Telegram does."""
        if parse_mode in (None, ""):
            return str(text)
        if parse_mode != "HTML":
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        try:
            return check_html(str(text))
        except EntityError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc

    def _poll_message_json(
        self, chat: Chat, message: StoredMessage, poll: PollState
    ) -> dict[str, Any]:
        data: dict[str, Any] = self.message_json(chat, message)  # type: ignore[attr-defined]
        data["poll"] = poll.json()
        return data

    # ---- the people's side -----------------------------------------------------------------

    def poll_at(self, chat: Chat, message_id: int) -> PollState | None:
        """The poll of a message (None for any other message)."""
        with self.lock:  # type: ignore[attr-defined]
            for poll in self.polls.values():
                if poll.chat_id == chat.id and poll.message_id == message_id:
                    return poll
            return None

    def polls_in(self, chat: Chat) -> list[PollState]:
        """The bot's polls in a chat, in the order they were sent."""
        with self.lock:  # type: ignore[attr-defined]
            return sorted(
                (p for p in self.polls.values() if p.chat_id == chat.id),
                key=lambda p: p.message_id,
            )

    def answer_poll(self, person: Person, poll: PollState, option_ids: list[int]) -> None:
        """A person's whole current choice in a poll (empty: takes the vote back). Raises
        AssertionError for what Telegram's apps do not let a person do."""
        with self.lock:  # type: ignore[attr-defined]
            assert not poll.is_closed, "the poll is closed"
            assert all(0 <= i < len(poll.options) for i in option_ids), "no such option"
            assert len(set(option_ids)) == len(option_ids), "an option chosen twice"
            assert poll.allows_multiple_answers or len(option_ids) <= 1, "one answer only"
            if not option_ids and person.id not in poll.choices:
                return  # nothing to take back
            poll.choices[person.id] = sorted(option_ids)
            if not option_ids:
                del poll.choices[person.id]
            self._push({"poll": poll.json()})  # type: ignore[attr-defined]  # the new state
            if poll.is_anonymous:
                return
            chosen = sorted(option_ids)
            self._push(  # type: ignore[attr-defined]
                {
                    "poll_answer": {
                        "poll_id": poll.id,
                        "user": person.json(),
                        "option_ids": chosen,
                        "option_persistent_ids": [str(i) for i in chosen],
                    }
                }
            )
