"""`/boards` in a private chat (SPEC §11): the boards of every group the person moderates now.

Rights are asked from Telegram at the moment of asking (getChatMember per group with a board,
never the cache): a group's creator and administrators see its boards, whoever created a board
sees that board. The buttons send a board's status or its files into the private chat, after
asking Telegram once more — someone demoted in between gets a sentence, not the board.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.context import BotData, Context
from bot.handlers.buttons import Press, button, on_press
from bot.handlers.miniapp import board_button
from bot.handlers.outbox import Outbox
from bot.handlers.outputs import queue_export
from bot.handlers.reading import person_of, scope_of
from bot.handlers.send import send_html
from bot.handlers.status import status_text
from bot.handlers.turn import Need, Refusal, Turn, Where, run_turn
from bot.model.board import BoardStatus
from bot.render.overview import board_block, group_message
from bot.store import queries
from bot.store.tables import Board
from bot.texts import Html

log = logging.getLogger(__name__)

STATUS, FILES = "pvs", "pve"
BOARDS_PER_MESSAGE = 6  # keeps a message far below Telegram's 4,096 characters
ASK_AT_ONCE = 8  # getChatMember requests in flight for one /boards
LABEL_TITLE = 24  # characters of a board's title on its buttons
_RULERS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

Queue = Callable[[Session, BotData, Board, Outbox], None]  # what a button sends, queued


async def rules(context: Context, chat_id: int, person_id: int) -> bool:
    """Whether the person is the group's creator or an administrator right now (asked from
    Telegram; when it cannot be asked, no)."""
    try:
        member = await context.bot.get_chat_member(chat_id, person_id)
    except TelegramError as exc:
        log.info("rights of %s in %s not known: %s", person_id, chat_id, exc)
        return False
    return member.status in _RULERS


async def ruled_groups(context: Context, person_id: int) -> frozenset[int]:
    """The groups with boards that the person moderates right now."""

    def read() -> list[int]:
        with context.bot_data.session() as session:
            return queries.group_chat_ids_with_boards(session)

    chat_ids = await asyncio.to_thread(read)
    gate = asyncio.Semaphore(ASK_AT_ONCE)

    async def ask(chat_id: int) -> bool:
        async with gate:
            return await rules(context, chat_id, person_id)

    answers = await asyncio.gather(*(ask(chat_id) for chat_id in chat_ids))
    return frozenset(chat for chat, ruled in zip(chat_ids, answers, strict=True) if ruled)


async def boards(update: Update, context: Context) -> None:
    """`/boards`: ask Telegram first (no session open), then list in one unit of work."""
    message = update.effective_message
    if message is None:
        return
    person = person_of(message)
    ruled: frozenset[int] = frozenset()
    if scope_of(message).is_private and person is not None:
        ruled = await ruled_groups(context, person.id)
    decide = functools.partial(_overview, ruled)
    out = await run_turn(update, context, message, decide, Where.ANYWHERE, Need.NONE, False)
    if out is not None:
        await out.deliver(context)


def _overview(ruled: frozenset[int], turn: Turn) -> None:
    person = turn.person
    if not turn.scope.is_private or person is None:
        raise Refusal("boards_private_only")
    found = queries.boards_for_overview(turn.session, chat_ids=ruled, creator_id=person.id)
    if not found:
        raise Refusal("boards_none")
    titles = queries.chat_titles(turn.session, chat_ids={b.chat_id for b in found})
    groups: dict[int, list[Board]] = {}
    for board in found:
        groups.setdefault(board.chat_id, []).append(board)
    ordered = sorted(groups.items(), key=lambda item: (titles.get(item[0], "").casefold(), item[0]))
    header: Html | None = turn.messages("boards_header", groups=len(groups), boards=len(found))
    for chat_id, chat_boards in ordered:
        group = titles.get(chat_id) or turn.messages.plain("boards_group_unknown")
        for start in range(0, len(chat_boards), BOARDS_PER_MESSAGE):
            chunk = chat_boards[start : start + BOARDS_PER_MESSAGE]
            blocks = [_block(turn, board) for board in chunk]
            text = group_message(turn.messages, group, blocks, header=header)
            turn.out.post(text, markup=_buttons(turn, chunk))
            header = None


def _block(turn: Turn, board: Board) -> Html:
    view = queries.board_view(turn.session, board)
    # no reminder and no autopilot card go to a closed or complete board: none promised
    waiting = board.status == BoardStatus.OPEN and not view.is_complete
    return board_block(
        turn.model,
        turn.messages,
        view,
        zone=board.timezone,
        next_reminder=(
            board.next_reminder_at if waiting and board.remind_weekday is not None else None
        ),
        next_card=board.next_pace_at if waiting else None,
    )


def _buttons(turn: Turn, chunk: Iterable[Board]) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for board in chunk:
        assert board.id is not None
        title = board.title if len(board.title) <= LABEL_TITLE else board.title[: LABEL_TITLE - 1]
        title += "" if len(board.title) <= LABEL_TITLE else "…"
        rows.append(
            [
                button(
                    turn.messages.plain_format("boards_status_button", title=title),
                    STATUS,
                    board.id,
                ),
                button(
                    turn.messages.plain_format("boards_files_button", title=title), FILES, board.id
                ),
            ]
        )
        # the Mini App (SPEC §13), when it is set up: one button per board
        label = turn.messages.plain_format("miniapp_boards_button", title=title)
        opener = board_button(turn, board, label)
        if opener is not None:
            rows.append([opener])
    return InlineKeyboardMarkup(rows)


# ---- the buttons: into the private chat, after asking Telegram again ---------------------------


@on_press(STATUS, needs_open=False, private_ok=True)
def status_here(press: Press) -> None:
    """The board's `/status`, into the chat where the button was pressed."""
    _send_checked(press, _status)
    press.tell("boards_sending")


@on_press(FILES, needs_open=False, private_ok=True)
def files_here(press: Press) -> None:
    """The board's export files, into the chat where the button was pressed."""
    _send_checked(press, _files)
    press.tell("boards_sending")


def _status(session: Session, data: BotData, board: Board, out: Outbox) -> None:
    out.post(status_text(session, board, data.messages(board.language), data.model(board.language)))


def _files(session: Session, data: BotData, board: Board, out: Outbox) -> None:
    queue_export(session, out, board, data)


def _send_checked(press: Press, queue: Queue) -> None:
    """After the answer: ask Telegram whether the person still moderates the board's group (or
    created the board), then read the board afresh and send. Only in the private chat (where
    /boards puts these buttons): nothing a group could take past its own cool-downs."""
    if not press.scope.is_private:
        raise Refusal("boards_private_only")
    board = press.board
    assert board.id is not None
    board_id, chat_id, creator, person_id = (
        board.id,
        board.chat_id,
        board.created_by,
        press.person.id,
    )
    # the group is not named: the ids in a button can be forged by anyone
    refusal = press.messages("boards_no_longer")
    here = press.out

    async def step(context: Context) -> None:
        if creator != person_id and not await rules(context, chat_id, person_id):
            await send_html(context, here.chat_id, here.thread_id, refusal)
            return
        data = context.bot_data
        sends = Outbox(here.chat_id, here.thread_id)

        def read() -> bool:
            with data.session() as session:
                current = queries.board_by_id(session, board_id)
                if current is None:  # deleted in between: nothing to send
                    return False
                queue(session, data, current, sends)
                session.commit()  # the plan's measures brought up to date for the export
                return True

        if await data.lanes.run(chat_id, read):
            await sends.deliver(context)

    here.then(step)
