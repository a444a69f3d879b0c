"""What an update sends, collected while deciding and sent only after the commit."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Message

from bot.context import Context
from bot.handlers.send import ReplyMarkup, acknowledge, send_html
from bot.texts import Html
from bot.updates.unit import defer_send

Step = Callable[[Context], Awaitable[None]]


@dataclass
class Outbox:
    """Sends for one chat and topic, in order; `reply_to` is the message being answered."""

    chat_id: int
    thread_id: int
    reply_to: int | None = None
    steps: list[Step] = field(default_factory=list)
    _reactions: set[Step] = field(default_factory=set, init=False, repr=False)  # deferrable

    def answer(
        self,
        text: Html,
        markup: ReplyMarkup | None = None,
        then: Callable[[Message], Step] | None = None,
    ) -> None:
        """Answer the person's message, as a reply (with buttons, if given)."""
        self._send(text, markup, then, reply=True)

    def post(
        self,
        text: Html,
        then: Callable[[Message], Step] | None = None,
        markup: ReplyMarkup | None = None,
    ) -> None:
        """Post a message in the chat; `then` may act on what Telegram returned."""
        self._send(text, markup, then, reply=False)

    def _send(
        self,
        text: Html,
        markup: ReplyMarkup | None,
        then: Callable[[Message], Step] | None,
        *,
        reply: bool,
    ) -> None:
        chat, thread = self.chat_id, self.thread_id
        reply_to = self.reply_to if reply else None

        async def step(context: Context) -> None:
            sent = await send_html(context, chat, thread, text, reply_to=reply_to, markup=markup)
            if then is not None:
                await then(sent)(context)

        self.steps.append(step)

    def react(self) -> None:
        """Acknowledge the person's message with a reaction (nothing else if refused)."""
        chat, reply = self.chat_id, self.reply_to
        if reply is None:
            return

        async def step(context: Context) -> None:
            await acknowledge(context, chat, reply)

        self.steps.append(step)
        self._reactions.add(step)

    def then(self, step: Step) -> None:
        """Any other send, in order with the rest."""
        self.steps.append(step)

    async def deliver(self, context: Context) -> None:
        """Send in order. A reaction may be handed to the pipeline instead (bot/updates/unit.py):
        it only marks the person's message, so the chat's next update need not wait for
        Telegram's answer to it."""
        for step in self.steps:
            if step in self._reactions and defer_send(functools.partial(step, context)):
                continue
            await step(context)
