"""Posting the board: text, image and files, on request, on completion and on closing.

Each function queues sends for a board view read in the update's unit of work; the heavy
rendering (image, files) runs in a worker thread after the commit, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import InlineKeyboardMarkup

from bot import clock
from bot.context import BotData, Context
from bot.handlers.outbox import Outbox
from bot.handlers.plan import plan_rows
from bot.handlers.send import send_document, send_html, send_many, send_photo
from bot.handlers.turn import Turn
from bot.model.board import BoardView
from bot.model.plan_rows import PlanRow
from bot.render import html
from bot.render.export import build_export
from bot.render.files import file_stem
from bot.render.image import render_png
from bot.store import queries
from bot.store.tables import Board

log = logging.getLogger(__name__)


def queue_board(
    out: Outbox,
    view: BoardView,
    *,
    image: bool = True,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """The board as text messages (`markup` under the last one), then as an image."""
    chat, thread = out.chat_id, out.thread_id

    async def step(context: Context) -> None:
        model = context.bot_data.model(view.language)
        messages = context.bot_data.messages(view.language)
        texts: list[str] = list(html.board_text(model, messages, view))
        await send_many(context, chat, thread, texts[:-1])
        await send_html(context, chat, thread, texts[-1], markup=markup)
        if not image:
            return
        try:
            png = await asyncio.to_thread(render_png, model, messages, view)
        except Exception:  # the text went out; a text the image cannot take must not stop it
            log.exception("board %s: the image could not be drawn", view.id)
            await send_many(context, chat, thread, [messages("board_image_failed")])
            return
        stem = file_stem(view.title, clock.now())
        await send_photo(
            context, chat, thread, png, f"{stem}.png", html.board_title(messages, view)
        )

    out.then(step)


def queue_files(
    out: Outbox, view: BoardView, *, zone: str, plan: Sequence[PlanRow] | None = None
) -> None:
    """`/export`: the board as files — Markdown, JSON, the PDF report, the sharp image."""
    chat, thread = out.chat_id, out.thread_id

    async def step(context: Context) -> None:
        model = context.bot_data.model(view.language)
        messages = context.bot_data.messages(view.language)
        now = clock.now().astimezone(ZoneInfo(zone))
        made = await asyncio.to_thread(build_export, model, messages, view, now=now, plan=plan)
        for file in made.files:
            await send_document(context, chat, thread, file.data, file.name, file.caption)
        note = made.missing_note(messages)
        if note is not None:
            await send_many(context, chat, thread, [note])

    out.then(step)


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
    return Export(queries.board_view(session, board), plan)


def queue_export(
    session: Session, out: Outbox, board: Board, data: BotData, export: Export | None = None
) -> None:
    """The export of a board with its plan: read in the unit of work (unless `export` was),
    built and sent after."""
    export = export if export is not None else read_export(session, board, data)
    queue_files(out, export.view, zone=board.timezone, plan=export.plan)


def queue_completion(out: Outbox, view: BoardView) -> None:
    """The last empty point just got its first Ist entry: say so and post the board."""

    async def step(context: Context) -> None:
        messages = context.bot_data.messages(view.language)
        await send_many(context, out.chat_id, out.thread_id, [messages("board_complete")])

    out.then(step)
    queue_board(out, view)


def queue_final(session: Session, out: Outbox, board: Board, data: BotData) -> None:
    """On `/close`: the final board as text, image and files (with the plan)."""
    queue_board(out, queries.board_view(session, board))
    queue_export(session, out, board, data)


def claim_output(turn: Turn, command: str, fingerprint: str) -> bool:
    """The per-group cool-down of heavy outputs; answers with a note when it holds one back."""
    allowed = queries.claim_heavy_output(
        turn.session,
        chat_id=turn.scope.chat_id,
        thread_id=turn.scope.thread_id,
        command=command,
        fingerprint=fingerprint,
    )
    if not allowed:
        turn.answer("output_cool_down")
    return allowed
