"""`/boards` (SPEC §3, §11).

In a private chat: the boards of every group the person moderates now. Rights are asked from
Telegram at the moment of asking (getChatMember, never the cache), and only about the groups with
a board where the person has been seen or created a board — a stranger's `/boards` costs no
request. A group's creator and administrators see its boards; whoever created a board sees it
while still a member of its group. The buttons send a board's status or its files into the
private chat, after asking Telegram once more — someone demoted or removed in between gets a
sentence, not the board.

In a group: every board of this chat and topic, the earlier (closed) ones too, with buttons
that bring up a board's status, its text and image, or its files here (with the group's
cool-downs), and the `/deleteboard` question for that board (moderators confirm).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.context import BotData, Context
from bot.handlers.core.buttons import Press, button, on_press
from bot.handlers.core.outbox import Outbox, action
from bot.handlers.core.reading import person_of, scope_of
from bot.handlers.core.send import send_html
from bot.handlers.core.turn import Need, Refusal, Turn, Where, run_turn
from bot.handlers.miniapp import board_button
from bot.handlers.outputs import queue_board, queue_export
from bot.handlers.privacy import delete_question
from bot.handlers.status import status_text
from bot.model.board import BoardStatus
from bot.render.overview import board_block, group_message
from bot.store import boards as board_store
from bot.store import chats as chat_store
from bot.store import overview as overview_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork
from bot.texts import Html

log = logging.getLogger(__name__)

STATUS, FILES = "pvs", "pve"
# the buttons under `/boards` in a group: status, board (text and image), files, delete question
GROUP_STATUS, GROUP_BOARD, GROUP_FILES, GROUP_DELETE = "pgs", "pgb", "pge", "pgd"
BOARDS_PER_MESSAGE = 6  # keeps a message far below Telegram's 4,096 characters
ASK_AT_ONCE = 8  # getChatMember requests in flight for one /boards
LABEL_TITLE = 24  # characters of a board's title on its buttons
_RULERS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

Queue = Callable[[Session, BotData, Board, Outbox], None]  # what a button sends, queued


class Standing(Enum):
    """Where a person stands in a group right now."""

    RULES = auto()  # the group's creator or an administrator
    MEMBER = auto()  # in the group, without rights
    OUTSIDE = auto()  # left, removed, banned — or not known


async def standing(context: Context, chat_id: int, person_id: int) -> Standing:
    """Asked from Telegram now; when it cannot be asked, outside."""
    try:
        member = await context.bot.get_chat_member(chat_id, person_id)
    except TelegramError as exc:
        log.info("rights of %s in %s not known: %s", person_id, chat_id, exc)
        return Standing.OUTSIDE
    if member.status in _RULERS:
        return Standing.RULES
    if member.status == ChatMemberStatus.MEMBER:
        return Standing.MEMBER
    if member.status == ChatMemberStatus.RESTRICTED and getattr(member, "is_member", False):
        return Standing.MEMBER
    return Standing.OUTSIDE


async def rules(context: Context, chat_id: int, person_id: int) -> bool:
    """Whether the person is the group's creator or an administrator right now."""
    return await standing(context, chat_id, person_id) is Standing.RULES


@dataclass(frozen=True)
class Standings:
    """The groups the person moderates now, and those they are in now (moderated included)."""

    ruled: frozenset[int]
    member_of: frozenset[int]


async def standings(context: Context, person_id: int) -> Standings:
    """Asked only about the groups with boards where the person was seen or opened a board."""
    data = context.bot_data

    def read(unit: UnitOfWork) -> list[int]:
        return overview_store.groups_to_ask(unit.session, person_id=person_id)

    chat_ids = await data.run_unit(person_id, read)  # asked in the private chat: its id
    gate = asyncio.Semaphore(ASK_AT_ONCE)

    async def ask(chat_id: int) -> Standing:
        async with gate:
            return await standing(context, chat_id, person_id)

    answers = await asyncio.gather(*(ask(chat_id) for chat_id in chat_ids))
    found = list(zip(chat_ids, answers, strict=True))
    return Standings(
        frozenset(chat for chat, s in found if s is Standing.RULES),
        frozenset(chat for chat, s in found if s is not Standing.OUTSIDE),
    )


async def boards(update: Update, context: Context) -> None:
    """`/boards`: ask Telegram first (no session open), then list in one unit of work."""
    message = update.effective_message
    if message is None:
        return
    person = person_of(message)
    scope = scope_of(message)
    found = Standings(frozenset(), frozenset())
    if scope.is_private and person is not None:
        found = await standings(context, person.id)
    decide = _in_group if scope.is_group else functools.partial(_overview, found)
    # in a group, repeated while the answer waits behind the group's limit: only the newest
    coalesce = "boards" if scope.is_group else None
    out = await run_turn(
        update, context, message, decide, Where.ANYWHERE, Need.NONE, False, coalesce=coalesce
    )
    if out is not None:
        await out.deliver(context)


def _overview(standings_now: Standings, turn: Turn) -> None:
    person = turn.person
    if not turn.scope.is_private or person is None:
        raise Refusal("boards_private_only")
    found = overview_store.boards_for_overview(
        turn.session,
        ruled=standings_now.ruled,
        member_of=standings_now.member_of,
        creator_id=person.id,
    )
    if not found:
        raise Refusal("boards_none")
    titles = chat_store.chat_titles(turn.session, chat_ids={b.chat_id for b in found})
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
    view = board_store.board_view(turn.session, board)
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


@on_press(STATUS, needs_open=False, private_ok=True, read_only=True)
def status_here(press: Press) -> None:
    """The board's `/status`, into the chat where the button was pressed."""
    _send_checked(press, _status)
    press.tell("boards_sending")


@on_press(FILES, needs_open=False, private_ok=True, read_only=True)
def files_here(press: Press) -> None:
    """The board's export files, into the chat where the button was pressed."""
    _send_checked(press, _files)
    press.tell("boards_sending")


def _status(session: Session, data: BotData, board: Board, out: Outbox) -> None:
    out.post(status_text(session, board, data.messages(board.language), data.model(board.language)))


def _files(session: Session, data: BotData, board: Board, out: Outbox) -> None:
    queue_export(out, board)


_CHECKED: dict[str, Queue] = {"_status": _status, "_files": _files}


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
    press.out.do(
        "checked",
        board=board_id,
        group=chat_id,
        creator=creator,
        person=person_id,
        what=queue.__name__,
        refusal=str(press.messages("boards_no_longer")),
    )


@action("checked")
async def _checked(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    """Ask Telegram whether the person may still have the board, then read it and send."""
    person_id, creator = int(args["person"]), args.get("creator")
    now = await standing(context, int(args["group"]), person_id)
    # a creator keeps the board only while still in its group
    allowed = now is Standing.RULES or (creator == person_id and now is Standing.MEMBER)
    if not allowed:
        await send_html(context, chat, thread, str(args["refusal"]))
        return
    data = context.bot_data
    sends = Outbox(chat, thread)
    queue = _CHECKED[str(args["what"])]
    board_id = int(args["board"])

    def read(unit: UnitOfWork) -> bool:
        current = board_store.board_by_id(unit.session, board_id)
        if current is None:  # deleted in between: nothing to send
            return False
        queue(unit.session, data, current, sends)
        unit.commit()
        return True

    if await data.run_unit(int(args["group"]), read):
        await sends.deliver(context)


# ---- /boards in a group: this topic's boards, the earlier ones too -----------------------------


def _in_group(turn: Turn) -> None:
    """Every board of this chat and topic with its buttons; members may read them all."""
    found = overview_store.boards_of_topic(
        turn.session, chat_id=turn.scope.chat_id, thread_id=turn.scope.thread_id
    )
    if not found:
        raise Refusal("no_board")
    for start in range(0, len(found), BOARDS_PER_MESSAGE):
        chunk = found[start : start + BOARDS_PER_MESSAGE]
        blocks = [_block(turn, board) for board in chunk]
        header = turn.messages("boards_here_header", boards=len(found)) if start == 0 else None
        text = Html("\n\n".join([*([header] if header is not None else []), *blocks]))
        turn.out.post(text, markup=_group_buttons(turn, chunk))


def _label(board: Board) -> str:
    title = board.title
    return title if len(title) <= LABEL_TITLE else title[: LABEL_TITLE - 1] + "…"


def _group_buttons(turn: Turn, chunk: Iterable[Board]) -> InlineKeyboardMarkup:
    plain = turn.messages.plain_format
    rows: list[list[InlineKeyboardButton]] = []
    for board in chunk:
        assert board.id is not None
        title = _label(board)
        rows.append(
            [
                button(plain("boards_status_button", title=title), GROUP_STATUS, board.id),
                button(plain("boards_board_button", title=title), GROUP_BOARD, board.id),
            ]
        )
        rows.append(
            [
                button(plain("boards_files_button", title=title), GROUP_FILES, board.id),
                button(plain("boards_delete_button", title=title), GROUP_DELETE, board.id),
            ]
        )
    return InlineKeyboardMarkup(rows)


@on_press(GROUP_STATUS, needs_open=False, read_only=True)
def group_status(press: Press) -> None:
    """This board's `/status`, here."""
    press.out.post(status_text(press.session, press.board, press.messages, press.model))
    press.tell("boards_coming")


@on_press(GROUP_BOARD, needs_open=False, read_only=True)
def group_board(press: Press) -> None:
    """This board as text and image, here (with `/board`'s cool-down)."""
    view = board_store.board_view(press.session, press.board)
    if press.cooled_down("board", view.fingerprint()):
        queue_board(press.out, view)
        press.tell("boards_coming")


@on_press(GROUP_FILES, needs_open=False, read_only=True)
def group_files(press: Press) -> None:
    """This board's files, here (with `/export`'s cool-down)."""
    view = board_store.board_view(press.session, press.board)
    if press.cooled_down("export", view.fingerprint()):
        queue_export(press.out, press.board)
        press.tell("boards_coming")


@on_press(GROUP_DELETE, moderator=True, needs_open=False)
def group_delete(press: Press) -> None:
    """The `/deleteboard` question for this board: export first, delete or keep (a moderator's
    tap on it decides, as for the open board)."""
    text, markup = delete_question(
        press.session,
        press.board,
        chat_id=press.scope.chat_id,
        person_id=press.person.id,
        messages=press.messages,
    )
    press.out.post(text, markup=markup)
    press.tell("boards_coming")
