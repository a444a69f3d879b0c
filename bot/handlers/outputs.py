"""Posting the board: text, image and files, on request, on completion and on closing.

Each function stores what to send in the update's outbox (the board's id, not the bytes); the
board is read and rendered (image, files in a worker thread, off the event loop) when the send
goes out, after the commit — after a restart too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from bot import clock
from bot.context import BotData, Context
from bot.handlers.core.outbox import Outbox, Parts, action, inline_of, markup_json
from bot.handlers.core.send import ChatGone, send_document, send_html, send_many, send_photo
from bot.handlers.core.turn import Turn
from bot.handlers.plan import plan_rows
from bot.model.board import BoardView
from bot.model.demo import demo_board
from bot.model.plan_rows import PlanRow
from bot.render import html
from bot.render.export import build_export
from bot.render.files import file_stem
from bot.render.image import render_png
from bot.store import boards as board_store
from bot.store import outputs as output_store
from bot.store.tables import Board
from bot.store.unit import UnitOfWork

log = logging.getLogger(__name__)


def queue_board(
    out: Outbox,
    view: BoardView,
    *,
    image: bool = True,
    markup: InlineKeyboardMarkup | None = None,
    demo: bool = False,
) -> None:
    """The board as text messages (`markup` under the last one), then as an image. Stored as
    what to render (the board's id, or the demo's language): rendered when it goes out."""
    out.do(
        "board",
        board=view.id,
        demo=view.language if demo else None,
        image=image,
        markup=markup_json(markup),
    )


async def _view(context: Context, chat: int, board_id: int, demo: str | None) -> BoardView | None:
    """The board as it is now (None if deleted in between), or the demo board."""
    data = context.bot_data
    if demo is not None:
        messages = data.messages(demo)
        return demo_board(data.model(demo), messages.plain("demo_title"), demo)

    def read(unit: UnitOfWork) -> BoardView | None:
        board = board_store.board_by_id(unit.session, board_id)
        return None if board is None else board_store.board_view(unit.session, board)

    return await data.run_unit(chat, read)


@action("board")
async def _send_board(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    view = await _view(context, chat, int(args["board"]), args.get("demo"))
    if view is not None:
        await send_board(
            context,
            chat,
            thread,
            view,
            Parts(context, args),
            image=bool(args["image"]),
            markup=inline_of(args["markup"]),
        )


async def send_board(
    context: Context,
    chat: int,
    thread: int,
    view: BoardView,
    parts: Parts,
    *,
    image: bool = True,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """The board's texts, then its image: each one a part (not sent again after a restart)."""
    model = context.bot_data.model(view.language)
    messages = context.bot_data.messages(view.language)
    texts: list[str] = list(html.board_text(model, messages, view))
    for index, text in enumerate(texts):
        if parts.due():
            last = index == len(texts) - 1
            await send_html(context, chat, thread, text, markup=markup if last else None)
        await parts.sent()
    if not image or not parts.due():
        await parts.sent()
        return
    try:
        png = await asyncio.to_thread(render_png, model, messages, view)
    except Exception:  # the text went out; a text the image cannot take must not stop it
        log.exception("board %s: the image could not be drawn", view.id)
        await send_many(context, chat, thread, [messages("board_image_failed")])
        await parts.sent()
        return
    stem = file_stem(view.title, clock.now())
    await send_photo(context, chat, thread, png, f"{stem}.png", html.board_title(messages, view))
    await parts.sent()


async def send_files(context: Context, chat: int, thread: int, board_id: int, parts: Parts) -> None:
    """`/export`: the board as files — Markdown, JSON, the PDF report, the sharp image — read
    and built now (the plan synchronised first); each file a part."""
    data = context.bot_data

    def read(unit: UnitOfWork) -> tuple[Export, str] | None:
        board = board_store.board_by_id(unit.session, board_id)
        if board is None:  # deleted in between: nothing to send
            return None
        export = read_export(unit.session, board, data)
        zone = board.timezone
        unit.commit()  # the plan's measures brought up to date
        return export, zone

    read_now = await data.run_unit(chat, read)
    if read_now is None:
        return
    export, zone = read_now
    view = export.view
    model = data.model(view.language)
    messages = data.messages(view.language)
    now = clock.now().astimezone(ZoneInfo(zone))
    made = await asyncio.to_thread(build_export, model, messages, view, now=now, plan=export.plan)
    for file in made.files:
        if parts.due():
            await send_document(context, chat, thread, file.data, file.name, file.caption)
        await parts.sent()
    note = made.missing_note(messages)
    if note is not None and parts.due():
        await send_many(context, chat, thread, [note])
    await parts.sent()


@action("files")
async def _send_files(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    await send_files(context, chat, thread, int(args["board"]), Parts(context, args))


@dataclass(frozen=True)
class Export:
    """What a board's files are made of: the board and its plan, read in one unit of work."""

    view: BoardView
    plan: list[PlanRow]

    def fingerprint(self) -> str:
        """Changes whenever the files would (an entry, or only the plan's owner, due, status)."""
        return hashlib.sha256(repr((self.view.fingerprint(), self.plan)).encode()).hexdigest()[:32]


def read_export(session: Session, board: Board, data: BotData) -> Export:
    messages, model = data.messages(board.language), data.model(board.language)
    plan = plan_rows(session, board, messages, model)  # synchronised first
    return Export(board_store.board_view(session, board), plan)


def queue_export(out: Outbox, board: Board) -> None:
    """The export of a board with its plan: read, built and sent when it goes out."""
    assert board.id is not None
    out.do("files", board=board.id)


def queue_completion(out: Outbox, view: BoardView) -> None:
    """The last empty point just got its first Ist entry: say so and post the board."""
    out.do("say", key="board_complete", language=view.language)
    queue_board(out, view)


def queue_final(out: Outbox, board: Board) -> None:
    """On `/close`: the final board as text, image and files (with the plan); if that fails,
    where to get it."""
    assert board.id is not None
    out.do("final", board=board.id)


@action("final")
async def _send_final(context: Context, chat: int, thread: int, args: dict[str, Any]) -> None:
    board_id = int(args["board"])
    view = await _view(context, chat, board_id, None)
    if view is None:
        return
    # the board is closed either way; if the final post fails, say where to get it
    parts = Parts(context, args)
    try:
        await send_board(context, chat, thread, view, parts)
        await send_files(context, chat, thread, board_id, parts)
    except ChatGone:
        raise
    except (TelegramError, OSError) as exc:
        log.warning("final board of %s not posted: %s", chat, exc)
        messages = context.bot_data.messages(view.language)
        await send_html(context, chat, thread, messages("close_post_failed", title=view.title))


def claim_output(turn: Turn, command: str, fingerprint: str) -> bool:
    """The per-group cool-down of heavy outputs; answers with a note when it holds one back."""
    allowed = output_store.claim_heavy_output(
        turn.session,
        chat_id=turn.scope.chat_id,
        thread_id=turn.scope.thread_id,
        command=command,
        fingerprint=fingerprint,
    )
    if not allowed:
        turn.answer_kind = "cool_down"  # coalesces apart from the output it points to
        turn.answer("output_cool_down")
    return allowed
