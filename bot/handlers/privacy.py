"""Privacy (SPEC §11): /privacy says what is stored; /forgetme deletes a person's data,
/deleteboard a whole board — each only after a confirming tap.

Deleting goes through the erasure registry (bot/store/erasure.py), so tables of every feature
are reached (every store module registers the erasers of its own tables).
"""

from __future__ import annotations

from sqlmodel import Session
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update

from bot import clock
from bot.context import BotData, Context
from bot.handlers.core.buttons import (
    Decision,
    Press,
    button,
    decode,
    on_keyboard,
    on_press,
    respond,
    whole_number,
)
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.reading import scope_of
from bot.handlers.core.turn import Need, Refusal, Turn, Where, handles
from bot.handlers.outputs import queue_export
from bot.render.reminder import cut_list
from bot.render.split import MESSAGE_LIMIT, telegram_length
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import confirmations
from bot.store import plan as plan_store
from bot.store.erasure import NOT_BOARD_BOUND, erase_board, erase_person
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Html, Messages

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
    asked = confirmations.ask(
        turn.session, kind=confirmations.FORGET, chat_id=turn.scope.chat_id, person_id=person.id
    )
    tail = f"{person.id}.{asked.id}"  # whose question, and which one
    markup = InlineKeyboardMarkup(
        [
            [
                button(messages.plain("privacy_delete_button"), FORGET, 0, f"y{tail}"),
                button(messages.plain("privacy_cancel_button"), FORGET, 0, f"n{tail}"),
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
    await respond(query, context, data.run_unit(chat, lambda unit: _forget(unit, query, data)))


def _forget(unit: UnitOfWork, query: CallbackQuery, data: BotData) -> Decision:
    """Decide a tap in one unit of work: delete (or not), commit, then say what went."""
    messages = data.messages_for(query.from_user.language_code)
    parsed = decode(query.data)
    argument = parsed.argument if parsed is not None else ""
    message = query.message if isinstance(query.message, Message) else None
    who, _, which = argument[1:].partition(".")
    asker = whole_number(who, digits=19) if argument[:1] in ("y", "n") else None
    if asker is None:
        return messages.plain_format("button_unknown"), True, None
    if message is None:
        return messages.plain_format("button_message_gone"), True, None
    if not on_keyboard(message, query.data):
        return messages.plain_format("press_refused"), True, None
    if query.from_user.id != asker:
        return messages.plain_format("forget_not_yours"), True, None
    scope = scope_of(message)
    out = Outbox(scope.chat_id, scope.thread_id)
    session = unit.session
    if not unit.claim():
        return "", False, None
    if scope.is_group:
        latest = board_store.latest_board(session, chat_id=scope.chat_id, thread_id=scope.thread_id)
        if latest is not None:
            messages = data.messages(latest.language)
    question = confirmations.take(
        session,
        confirmation_id=whole_number(which),
        kind=confirmations.FORGET,
        chat_id=scope.chat_id,
        now=clock.now(),
    )
    if question is None or question.person_id != asker:
        _edit(out, message.message_id, messages("confirm_stale"))
        unit.store(out)
        unit.commit()  # the update is processed; nothing else changes
        return messages.plain_format("confirm_stale"), True, out
    if argument[0] == "n":
        text = messages("forget_cancelled")
    else:
        session.delete(question)  # (not counted as the person's data in the report)
        session.flush()
        here = scope.chat_id if scope.is_group else None
        erased = erase_person(session, asker)
        username = query.from_user.username
        if username:  # a plan owner given as @username has no person id
            erased["owner_username"] = plan_store.forget_owner_username(session, username=username)
        user = query.from_user  # nor has one typed as a name: matched to theirs
        erased["owner_name"] = plan_store.forget_owner_names(
            session, names=(user.first_name, user.full_name)
        )
        text = _forget_report(session, messages, erased, here)
    _edit(out, message.message_id, text)
    unit.store(out)  # the question's outcome, stored with the erasure (SPEC §12)
    unit.commit()
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
    entries = erased.get("entries", {})
    elsewhere: dict[int, int] = {}
    for name, counts in erased.items():
        for board_id, count in counts.items():
            if name != "entries" or board_id == NOT_BOARD_BOUND:
                elsewhere[board_id] = elsewhere.get(board_id, 0) + count
    board_ids = sorted((set(entries) | set(elsewhere)) - {NOT_BOARD_BOUND})
    boards = [b for b in (board_store.board_by_id(session, i) for i in board_ids) if b is not None]
    titles = chat_store.chat_titles(session, chat_ids={b.chat_id for b in boards})
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
    out.edit(message_id, text, scrub=True)


# ---- /deleteboard ------------------------------------------------------------------------------


@handles(where=Where.GROUP, board=Need.LATEST, moderator=True)
def deleteboard(turn: Turn) -> None:
    """Ask first, offering the export; a moderator's tap deletes."""
    person_id = turn.person.id if turn.person is not None else turn.scope.chat_id
    text, markup = delete_question(
        turn.session,
        turn.open_board,
        chat_id=turn.scope.chat_id,
        person_id=person_id,
        messages=turn.messages,
    )
    turn.out.answer(text, markup=markup)


def delete_question(
    session: Session, board: Board, *, chat_id: int, person_id: int, messages: Messages
) -> tuple[Html, InlineKeyboardMarkup]:
    """`/deleteboard`'s question about `board`, remembered with what it counted (the entries,
    the title, the status), so a tap after the board changed decides nothing."""
    assert board.id is not None
    view = board_store.board_view(session, board)
    asked = confirmations.ask(
        session,
        kind=confirmations.DELETE_BOARD,
        chat_id=chat_id,
        person_id=person_id,
        board_id=board.id,
        fingerprint=view.fingerprint(),
    )
    markup = InlineKeyboardMarkup(
        [
            [button(messages.plain("privacy_export_button"), EXPORT, board.id)],
            [
                button(messages.plain("privacy_delete_button"), DELETE, board.id, asked.id),
                button(messages.plain("privacy_cancel_button"), KEEP, board.id, asked.id),
            ],
        ]
    )
    return deleteboard_question(messages, board.title, len(view.entries)), markup


def deleteboard_question(messages: Messages, title: str, entries: int) -> Html:
    """The question before /deleteboard, with the board's number of entries (one in the singular)."""
    if entries == 1:
        return messages("deleteboard_ask_one", title=title)
    return messages("deleteboard_ask", title=title, entries=entries)


@on_press(EXPORT, needs_open=False, read_only=True)
def export_before(press: Press) -> None:
    """The board's files, here, before it goes (like /export, with its cool-down)."""
    board = press.board
    view = board_store.board_view(press.session, board)
    if not press.cooled_down("export", view.fingerprint()):
        return
    queue_export(press.out, board)
    press.tell("privacy_exporting")


def _answered(press: Press, *, same_board: bool) -> bool:
    """Whether the tap answers a question that still stands (not answered, not older than ten
    minutes, the board not closed or reopened since and, with `same_board`, holding what the
    question counted); else the tap changes nothing and says so."""
    board = press.board
    question = confirmations.take(
        press.session,
        confirmation_id=whole_number(press.button.argument),
        kind=confirmations.DELETE_BOARD,
        chat_id=press.scope.chat_id,
        now=clock.now(),
        board_id=board.id,
        fingerprint=board_store.board_view(press.session, board).fingerprint()
        if same_board
        else None,
    )
    if question is None:
        press.tell("confirm_stale")
        press.alert = True
        _edit(press.out, press.message.message_id, press.messages("confirm_stale"))
        return False
    return True


@on_press(DELETE, moderator=True, needs_open=False)
def delete_confirmed(press: Press) -> None:
    """Delete the board with everything that belongs to it (if the question still stands)."""
    board = press.board
    assert board.id is not None
    if not _answered(press, same_board=True):
        return
    title = board.title
    removed = sum(erase_board(press.session, board.id).values())
    board_store.delete_board_row(press.session, board_id=board.id)
    _edit(press.out, press.message.message_id, press.messages("deleteboard_done", title=title))
    press.tell("deleteboard_done_notice", count=removed)


@on_press(KEEP, moderator=True, needs_open=False)
def delete_cancelled(press: Press) -> None:
    """Keep the board; the question says so."""
    if not _answered(press, same_board=False):
        return
    text = press.messages("deleteboard_cancelled", title=press.board.title)
    _edit(press.out, press.message.message_id, text)
    press.tell("deleteboard_kept_notice")
