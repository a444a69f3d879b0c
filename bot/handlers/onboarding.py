"""Meeting the bot: a short private `/start` with a button that adds the bot to a group and one
that shows the demo (the deep link `?start=demo`); one welcome when the bot joins a group."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatType

from bot import clock
from bot.context import Context
from bot.handlers.core.outbox import Outbox, action
from bot.handlers.core.send import send_html
from bot.handlers.core.turn import Turn, handles
from bot.handlers.outputs import queue_board
from bot.model.demo import demo_board
from bot.store import interaction as interaction_store
from bot.texts import Messages

DEMO = "demo"  # the payload of `https://t.me/<bot>?start=demo`
START_GROUP = "board"  # the payload of `https://t.me/<bot>?startgroup=board`


def start_markup(messages: Messages, username: str) -> InlineKeyboardMarkup:
    """ "Add to a group" (Telegram's group picker) and "see the demo" (a deep link back here)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    messages.plain("start_add_button"),
                    url=f"https://t.me/{username}?startgroup={START_GROUP}",
                )
            ],
            [
                InlineKeyboardButton(
                    messages.plain("start_demo_button"), url=f"https://t.me/{username}?start={DEMO}"
                )
            ],
        ]
    )


@handles()
def start(turn: Turn) -> None:
    """Private: five lines and two buttons, or the demo for `/start demo`. Groups: the help —
    except for the `/start@<bot> board` Telegram sends after the add-to-group button (SPEC §4a):
    that adds nothing to the welcome the joining posted (or posts it, once, if none was)."""
    if not turn.scope.is_private:
        if turn.argument().strip().casefold() == START_GROUP:
            if interaction_store.claim_welcome(
                turn.session, chat_id=turn.scope.chat_id, now=clock.now()
            ):
                turn.out.post(turn.messages("welcome_group"))
            return
        turn.answer("help")
        return
    if turn.argument().strip().casefold() == DEMO:
        messages = turn.messages
        view = demo_board(turn.model, messages.plain("demo_title"), messages.language)
        turn.out.post(messages("demo_intro"))
        queue_board(turn.out, view, demo=True)
        return
    turn.out.do("start_private", reply_to=turn.message.message_id, lang=turn.messages.language)


@action("start_private")
async def _start_private(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """Five lines and two buttons; the buttons need the bot's username, which Telegram told at
    start (getMe)."""
    messages = context.bot_data.messages(str(args["lang"]))
    markup = start_markup(messages, context.bot.username)
    await send_html(
        context, chat, thread, messages("start_private"), reply_to=args["reply_to"], markup=markup
    )


def welcome(out: Outbox, messages: Messages, chat_type: str) -> None:
    """The one welcome in a group the bot was added to, stored with the claim that it is
    posted once (SPEC §12)."""
    if chat_type in (ChatType.GROUP, ChatType.SUPERGROUP):
        out.post(messages("welcome_group"))
