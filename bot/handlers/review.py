"""The end of a board: /review, /close (asks first, `Schließen` / `Abbrechen`), /reopen, /export."""

from __future__ import annotations

import logging

from sqlmodel import Session
from telegram import InlineKeyboardMarkup

from bot import clock
from bot.context import BotData
from bot.handlers.core.buttons import Press, button, on_press, whole_number
from bot.handlers.core.outbox import Outbox
from bot.handlers.core.turn import Need, Refusal, Turn, handles
from bot.handlers.outputs import claim_output, queue_export, queue_final, read_export
from bot.model.board import BoardStatus
from bot.render import html
from bot.store import boards as board_store
from bot.store import confirmations
from bot.store import interaction as interaction_store
from bot.store.tables import Board, CloseQuestion
from bot.texts import Html, Messages

log = logging.getLogger(__name__)


@handles(board=Need.LATEST, read_only=True)
def review(turn: Turn) -> None:
    """The team's shared look at the board (anyone may ask)."""
    view = board_store.board_view(turn.session, turn.open_board)
    for text in html.review(turn.model, turn.messages, view):
        turn.out.post(text)


@handles(board=Need.LATEST, moderator=True)
def close(turn: Turn) -> None:
    """`/close` asks first: what is still empty, and `Schließen` / `Abbrechen`."""
    board = turn.open_board
    if board.status != BoardStatus.OPEN:
        raise Refusal("close_already", title=board.title)
    assert board.id is not None
    view = board_store.board_view(turn.session, board)
    question = interaction_store.ask_close(
        turn.session, board_id=board.id, fingerprint=view.fingerprint()
    )
    empty = view.empty_points
    messages = turn.messages
    if empty:
        text = messages(
            "close_ask",
            title=board.title,
            count=len(empty),
            points=html.point_list(turn.model, empty, messages),
        )
    else:
        text = messages("close_ask_complete", title=board.title)
    markup = InlineKeyboardMarkup(
        [
            [
                button(messages.plain("close_button_yes"), "closeok", board.id, question.id),
                button(messages.plain("close_button_no"), "closeno", board.id, question.id),
            ]
        ]
    )
    turn.out.answer(text, markup=markup)


def close_now(
    session: Session, out: Outbox, messages: Messages, board: Board, data: BotData
) -> None:
    """Close the board, say so and post the final board (or where to get it, if that fails)."""
    assert board.id is not None
    board_store.close_board(session, board=board)
    interaction_store.settle_close_questions(session, board_id=board.id)
    confirmations.settle_board(session, board_id=board.id)  # a /deleteboard asked before
    interaction_store.mark_progress(session, board_id=board.id, now=clock.now())
    out.post(messages("close_done", title=board.title))
    queue_final(out, board)


def _question(press: Press) -> CloseQuestion:
    question_id = whole_number(press.button.argument)
    question = (
        interaction_store.close_question(press.session, question_id=question_id)
        if question_id is not None
        else None
    )
    if question is None or question.board_id != press.board.id:
        raise Refusal("close_stale")
    return question


def _expired(question: CloseQuestion) -> bool:
    """A `/close` question is answered within ten minutes, like every confirmation."""
    return clock.now() - question.asked_at > confirmations.CONFIRM_WITHIN


def _settle_message(press: Press, text: Html) -> None:
    """Say on the question how it ended, without buttons (after the answer to the tap)."""
    press.out.edit(press.message.message_id, text)


def _stale(press: Press) -> None:
    press.tell("close_stale")
    press.alert = True
    if press.message.reply_markup is not None:  # said on the message already otherwise
        _settle_message(press, press.messages("close_stale"))


@on_press("closeok", moderator=True, needs_open=False)
def tap_close(press: Press) -> None:
    """`Schließen`: closes, unless the question is out of date (then nothing changes)."""
    question = _question(press)
    board = press.board
    fingerprint = board_store.board_view(press.session, board).fingerprint()
    changed = board.status != BoardStatus.OPEN or fingerprint != question.fingerprint
    if question.settled or changed or _expired(question):
        _stale(press)
        return
    close_now(press.session, press.out, press.messages, board, press.data)
    _settle_message(press, press.messages("close_confirmed", name=press.person.name))


@on_press("closeno", moderator=True, needs_open=False)
def tap_cancel(press: Press) -> None:
    """`Abbrechen`: the board stays open; the question says so."""
    question = _question(press)
    board = press.board
    if question.settled or board.status != BoardStatus.OPEN or _expired(question):
        _stale(press)
        return
    interaction_store.settle_close_question(press.session, question=question)
    _settle_message(press, press.messages("close_cancelled", title=board.title))


@handles(board=Need.LATEST, moderator=True)
def reopen(turn: Turn) -> None:
    board = turn.open_board
    if board.status == BoardStatus.OPEN:
        raise Refusal("reopen_nothing")
    try:
        board_store.reopen_board(turn.session, board=board)
    except board_store.BoardAlreadyOpen:
        other = board_store.open_board(
            turn.session, chat_id=board.chat_id, thread_id=board.thread_id
        )
        raise Refusal("reopen_conflict", title=other.title if other else "") from None
    assert board.id is not None
    interaction_store.settle_close_questions(turn.session, board_id=board.id)
    confirmations.settle_board(turn.session, board_id=board.id)  # a /deleteboard asked before
    interaction_store.mark_progress(turn.session, board_id=board.id, now=clock.now())
    turn.answer("reopen_done", title=board.title)


@handles(board=Need.LATEST)
def export(turn: Turn) -> None:
    board = turn.open_board
    export = read_export(turn.session, board, turn.data)
    if not claim_output(turn, "export", export.fingerprint()):
        return
    queue_export(turn.out, board)
