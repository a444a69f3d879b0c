"""Privacy (SPEC §11): /privacy says what is stored; /forgetme deletes a person's data,
/deleteboard a whole board — each only after a confirming tap.

Deleting goes through the erasure registry (bot/store/erasure.py), so tables of every feature
are reached; the core tables' erasers live in bot/store/erasers.py (imported here).
"""

from __future__ import annotations

from sqlmodel import Session
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update

from bot.context import BotData, Context
from bot.handlers.buttons import (
    Decision,
    Press,
    button,
    decode,
    on_press,
    respond,
    whole_number,
)
from bot.handlers.outbox import Outbox
from bot.handlers.outputs import queue_export
from bot.handlers.reading import scope_of
from bot.handlers.send import edit_html
from bot.handlers.turn import Need, Refusal, Turn, Where, handles
from bot.render.reminder import cut_list
from bot.render.split import MESSAGE_LIMIT, telegram_length
from bot.store import queries
from bot.store.erasers import NOT_BOARD_BOUND
from bot.store.erasure import erase_board, erase_person
from bot.texts import Html, Messages
from bot.updates.unit import mark_current_processed

FORGET = "pvf"  # /forgetme's buttons; answered here, as they belong to no board
FORGET_PATTERN = rf"^v1:{FORGET}:"
EXPORT, DELETE, KEEP = "pvx", "pvd", "pvc"  # /deleteboard's buttons (and the retention notice's)


@handles()
def privacy(turn: Turn) -> None:
    """What is stored, where, for how long, and the commands that delete."""
    turn.answer("privacy_text", days=turn.data.settings.retention_days)


# ---- /forgetme ---------------------------------------------------------------------------------


@handles()
def forgetme(turn: Turn) -> None:
    """Ask the person to confirm; only their own tap deletes."""
    person = turn.person
    if person is None or (turn.scope.is_group and person.id == turn.scope.chat_id):
        raise Refusal("forget_who")  # an anonymous administrator speaks as the group
    messages = turn.messages
    markup = InlineKeyboardMarkup(
        [
            [
                button(messages.plain("privacy_delete_button"), FORGET, 0, f"y{person.id}"),
                button(messages.plain("privacy_cancel_button"), FORGET, 0, f"n{person.id}"),
            ]
        ]
    )
    turn.out.answer(messages("forget_ask"), markup=markup)


async def forget_pressed(update: Update, context: Context) -> None:
    """A tap on /forgetme's buttons (they belong to no board, so the board checks of the shared
    dispatcher do not apply): answered like every press; only the asker's tap counts."""
    query = update.callback_query
    if query is None:
        return
    data = context.bot_data
    chat = query.message.chat.id if query.message is not None else 0
    await respond(query, context, data.lanes.run(chat, lambda: _forget(query, data)))


def _language_of(query: CallbackQuery, data: BotData) -> Messages:
    language = (query.from_user.language_code or "")[:2]
    if language not in data.texts.languages:
        language = data.settings.bot_language
    return data.messages(language)


def _forget(query: CallbackQuery, data: BotData) -> Decision:
    """Decide a tap in one unit of work: delete (or not), commit, then say what went."""
    messages = _language_of(query, data)
    parsed = decode(query.data)
    argument = parsed.argument if parsed is not None else ""
    message = query.message if isinstance(query.message, Message) else None
    asker = whole_number(argument[1:], digits=19) if argument[:1] in ("y", "n") else None
    if asker is None:
        return messages.plain_format("button_unknown"), True, None
    if message is None:
        return messages.plain_format("button_message_gone"), True, None
    if query.from_user.id != asker:
        return messages.plain_format("forget_not_yours"), True, None
    scope = scope_of(message)
    out = Outbox(scope.chat_id, scope.thread_id)
    with data.session() as session:
        if not mark_current_processed(session):
            return "", False, None
        if scope.is_group:
            latest = queries.latest_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)
            if latest is not None:
                messages = data.messages(latest.language)
        if argument[0] == "n":
            text = messages("forget_cancelled")
        else:
            here = scope.chat_id if scope.is_group else None
            erased = erase_person(session, asker)
            username = query.from_user.username
            if username:  # a plan owner given as @username has no person id
                erased["owner_username"] = queries.forget_owner_username(session, username=username)
            text = _forget_report(session, messages, erased, here)
        session.commit()
    _edit(out, message.message_id, text)
    notice = "forget_cancelled" if argument[0] == "n" else "forget_done_notice"
    return messages.plain_format(notice), False, out


def _forget_report(
    session: Session,
    messages: Messages,
    erased: dict[str, dict[int, int]],
    here: int | None,
) -> Html:
    """What was removed: entries per board (with its group), and the rest in one line.

    `here`: the group where /forgetme was confirmed — it sees only its own boards named, the
    others as one count (nobody sees a board of a group they are not in); in the private chat
    every board is named. At most one message long: a list too long ends in "… and N more".
    """
    entries = erased.get("core", {})
    elsewhere: dict[int, int] = {}
    for name, counts in erased.items():
        for board_id, count in counts.items():
            if name != "core" or board_id == NOT_BOARD_BOUND:
                elsewhere[board_id] = elsewhere.get(board_id, 0) + count
    board_ids = sorted((set(entries) | set(elsewhere)) - {NOT_BOARD_BOUND})
    boards = [b for b in (queries.board_by_id(session, i) for i in board_ids) if b is not None]
    titles = queries.chat_titles(session, chat_ids={b.chat_id for b in boards})
    lines: list[str] = []
    others = [b for b in boards if here is not None and b.chat_id != here]
    for board in boards:
        if board in others:
            continue
        board_id = board.id or 0
        line = messages(
            "forget_board_line",
            title=board.title,
            group=titles.get(board.chat_id) or messages.plain("boards_group_unknown"),
            count=entries.get(board_id, 0),
        )
        more = elsewhere.get(board_id, 0)
        lines.append(line + (messages("forget_board_more", count=more) if more else ""))
    if others:
        count = sum(entries.get(b.id or 0, 0) + elsewhere.get(b.id or 0, 0) for b in others)
        lines.append(messages("forget_elsewhere_line", boards=len(others), count=count))
    other = elsewhere.get(NOT_BOARD_BOUND, 0)
    if other:
        lines.append(messages("forget_other_line", count=other))
    if not lines:
        return messages("forget_nothing")
    frame = telegram_length(messages("forget_done", lines=Html("")))
    listed = cut_list(
        lines,
        MESSAGE_LIMIT - frame,
        "\n",
        lambda rest: messages("digest_more", count=rest),
    )
    return messages("forget_done", lines=Html(listed or ""))


def _edit(out: Outbox, message_id: int, text: Html) -> None:
    """Replace the question by its outcome (the buttons go with it)."""
    chat = out.chat_id

    async def step(context: Context) -> None:
        await edit_html(context, chat, message_id, text)

    out.then(step)


# ---- /deleteboard ------------------------------------------------------------------------------


@handles(where=Where.GROUP, board=Need.LATEST, moderator=True)
def deleteboard(turn: Turn) -> None:
    """Ask first, offering the export; a moderator's tap deletes."""
    board = turn.open_board
    assert board.id is not None
    view = queries.board_view(turn.session, board)
    messages = turn.messages
    markup = InlineKeyboardMarkup(
        [
            [button(messages.plain("privacy_export_button"), EXPORT, board.id)],
            [
                button(messages.plain("privacy_delete_button"), DELETE, board.id),
                button(messages.plain("privacy_cancel_button"), KEEP, board.id),
            ],
        ]
    )
    turn.out.answer(
        messages("deleteboard_ask", title=board.title, entries=len(view.entries)), markup=markup
    )


@on_press(EXPORT, needs_open=False)
def export_before(press: Press) -> None:
    """The board's files, here, before it goes (like /export, with its cool-down)."""
    board = press.board
    view = queries.board_view(press.session, board)
    if not queries.claim_heavy_output(
        press.session,
        chat_id=press.scope.chat_id,
        thread_id=press.scope.thread_id,
        command="export",
        fingerprint=view.fingerprint(),
    ):
        press.tell("output_cool_down")
        return
    queue_export(press.session, press.out, board, press.bot)
    press.tell("privacy_exporting")


@on_press(DELETE, moderator=True, needs_open=False)
def delete_confirmed(press: Press) -> None:
    """Delete the board with everything that belongs to it."""
    board = press.board
    assert board.id is not None
    title = board.title
    removed = sum(erase_board(press.session, board.id).values())
    queries.delete_board_row(press.session, board_id=board.id)
    _edit(press.out, press.message.message_id, press.messages("deleteboard_done", title=title))
    press.tell("deleteboard_done_notice", count=removed)


@on_press(KEEP, moderator=True, needs_open=False)
def delete_cancelled(press: Press) -> None:
    """Keep the board; the question says so."""
    text = press.messages("deleteboard_cancelled", title=press.board.title)
    _edit(press.out, press.message.message_id, text)
    press.tell("deleteboard_kept_notice")
