"""Cards and their buttons: `Ist` · `Soll` · `Beispiel` with the point's current counts, and
`Weiter ▶` under the newest card only.

Posting a card moves the board's current point in the unit of work; the card (and what its
buttons show) is remembered once Telegram has said which message it is. A tap on `Ist` or `Soll`
asks the person who tapped with a prompt that forces a reply only for them; the prompt is
remembered like a card, so a reply to it becomes an entry also after a restart.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session
from telegram import ForceReply, InlineKeyboardMarkup, Message

from bot import clock
from bot.context import BotData, Context
from bot.handlers.core.buttons import Press, button, on_press, whole_number
from bot.handlers.core.outbox import Outbox, Then, action, continuation, markup_json, markup_of
from bot.handlers.core.send import send_html
from bot.handlers.core.turn import Refusal
from bot.model.entry_text import Kind
from bot.render import html
from bot.render.people import mention
from bot.store import boards as board_store
from bot.store import cards as card_store
from bot.store import entries as entry_store
from bot.store import interaction as interaction_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Messages

DOUBLE_TAP = timedelta(minutes=1)  # the same question again within this is a double tap
PLACEHOLDER_LIMIT = 64  # characters, Telegram's limit for input_field_placeholder


# Buttons are changed with editMessageText and the card's own text: python-telegram-bot sends the
# default parse_mode also with editMessageReplyMarkup, which that method does not know.


def card_markup(
    messages: Messages, board_id: int, point: int, ist: int, soll: int, *, with_next: bool
) -> InlineKeyboardMarkup:
    """`Ist · n`, `Soll · n`, `Beispiel`; and `Weiter ▶` on the newest card."""
    rows = [
        [
            button(messages.plain_format("card_button_ist", count=ist), "ist", board_id, point),
            button(messages.plain_format("card_button_soll", count=soll), "soll", board_id, point),
            button(messages.plain("card_button_example"), "ex", board_id, point),
        ]
    ]
    if with_next:
        rows.append([button(messages.plain("card_button_next"), "next", board_id, point)])
    return InlineKeyboardMarkup(rows)


def queue_card(
    session: Session, out: Outbox, data: BotData, board: Board, point: int, area: int | None = None
) -> None:
    """Make `point` the board's current point and queue its card (with buttons)."""
    assert board.id is not None
    model = data.model(board.language)
    messages = data.messages(board.language)
    board_store.set_current_point(
        session, board=board, point=point, area=area or model.area_of(point).number
    )
    board_id = board.id
    ist, soll = entry_store.entry_counts(session, board_id=board_id).get(point, (0, 0))

    out.post(
        html.card(model, messages, point),
        then=Then(
            "card_posted",
            {"board": board_id, "point": point, "ist": ist, "soll": soll, "lang": board.language},
        ),
        markup=card_markup(messages, board_id, point, ist, soll, with_next=True),
    )


@continuation("card_posted")
async def card_posted(context: Context, sent: Message, args: dict[str, Any]) -> None:
    """Remember the card Telegram posted; older cards lose `Weiter ▶` (best effort: a deleted
    card is no failure)."""
    board_id, point, language = int(args["board"]), int(args["point"]), str(args["lang"])
    data = context.bot_data
    model, messages = data.model(language), data.messages(language)
    edits = Outbox(sent.chat.id, 0)

    def remember(unit: UnitOfWork) -> None:
        card = card_store.add_card(
            unit.session,
            board_id=board_id,
            point=point,
            chat_id=sent.chat.id,
            message_id=sent.message_id,
        )
        unit.session.flush()
        older = interaction_store.add_card_face(
            unit.session, card=card, ist=int(args["ist"]), soll=int(args["soll"])
        )
        # stored with the card: a crash after this commit still takes `Weiter ▶` off them
        for old, face in older:
            if old.chat_id != sent.chat.id:  # not in a group that became a supergroup
                continue
            edits.edit(
                old.message_id,
                html.card(model, messages, face.point),
                card_markup(messages, board_id, face.point, face.ist, face.soll, with_next=False),
            )
        unit.commit()

    await data.run_unit(sent.chat.id, remember, stored=edits)
    await edits.deliver(context)


def point_of(press: Press) -> int:
    """The point a card button names (1–20), else the press is refused as unknown."""
    point = whole_number(press.button.argument)
    if point is None or not 1 <= point <= len(press.model.points):
        raise Refusal("button_unknown")
    return point


def _ask(press: Press, kind: Kind) -> None:
    """Ask the person who tapped for their entry, with a reply forced only for them."""
    point = point_of(press)
    board, person, messages = press.board, press.person, press.messages
    assert board.id is not None
    asked = interaction_store.recent_prompt(
        press.session,
        board_id=board.id,
        point=point,
        kind=kind,
        person_id=person.id,
        since=clock.now() - DOUBLE_TAP,
    )
    if asked is not None:
        press.tell("prompt_asked_already")
        return
    heading = press.model.point(point).heading
    kind_name = messages.plain("kind_" + kind.value)
    text = messages(
        "prompt_text", person=mention(person.id, person.name), kind=kind_name, point=heading
    )
    placeholder = messages.plain_format("prompt_placeholder", kind=kind_name, point=heading)
    markup = ForceReply(selective=True, input_field_placeholder=placeholder[:PLACEHOLDER_LIMIT])
    # a tap has no message of the person: the prompt replies to the card and mentions them
    assert board.id is not None
    assert person.id is not None
    press.out.do(
        "prompt",
        text=str(text),
        reply_to=press.message.message_id,
        markup=markup_json(markup),
        board=board.id,
        point=point,
        kind=kind.value,
        person=person.id,
    )
    press.tell("prompt_asked")


@action("prompt")
async def _send_prompt(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """Ask for the entry as a reply to the card, and remember the prompt (replies to it count)."""
    sent = await send_html(
        context,
        chat,
        thread,
        args["text"],
        reply_to=args["reply_to"],
        markup=markup_of(args["markup"]),
    )
    data = context.bot_data

    def remember(unit: UnitOfWork) -> None:
        interaction_store.add_prompt(
            unit.session,
            board_id=args["board"],
            point=args["point"],
            kind=Kind(args["kind"]),
            person_id=args["person"],
            chat_id=sent.chat.id,  # the message's own chat (it may have moved)
            message_id=sent.message_id,
        )
        unit.commit()

    await data.run_unit(chat, remember)


@on_press("ist")
def tap_ist(press: Press) -> None:
    _ask(press, Kind.IST)


@on_press("soll")
def tap_soll(press: Press) -> None:
    _ask(press, Kind.SOLL)


@on_press("ex", needs_open=False, read_only=True)
def tap_example(press: Press) -> None:
    """The point's worked example, as a reply to the card (once a minute per point here)."""
    point = point_of(press)
    if not press.cooled_down(f"example{point}", press.messages.language, "example_shown_recently"):
        return
    text = html.example(press.model, press.messages, point)
    press.out.do("reply", text=str(text), reply_to=press.message.message_id)
