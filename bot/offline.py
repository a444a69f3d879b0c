"""Without Telegram: write the demo board or a stored board as its export files."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import clock
from bot.handlers.plan import plan_rows
from bot.model.board import BoardView
from bot.model.catalogue import CatalogueError, load_catalogue
from bot.model.demo import demo_board
from bot.model.plan_rows import PlanRow
from bot.render.export import build_export
from bot.render.files import file_stem
from bot.render.html import board_text
from bot.settings import SettingsError, load_database_settings
from bot.store import boards as board_store
from bot.store.db import make_engine, session_scope, upgrade_schema
from bot.store.tables import Board
from bot.texts import load_texts


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), like the database file: a board's files
    hold names and entries. A file that was there already is made 0600 first."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb", closefd=False) as handle:
            handle.write(data)
    finally:
        os.close(descriptor)


def write_board_files(
    view: BoardView,
    out: Path,
    *,
    zone: str = "Europe/Berlin",
    plan: Sequence[PlanRow] | None = None,
) -> list[Path]:
    """Write the export files (Markdown, JSON, PDF report, image) and the Telegram text, each
    readable by its owner only."""
    catalogue, texts = load_catalogue(), load_texts()
    model, messages = catalogue[view.language], texts[view.language]
    now = clock.now().astimezone(ZoneInfo(zone))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    made = build_export(model, messages, view, now=now, plan=plan)
    for file in made.files:
        path = out / file.name
        _write_private(path, file.data)
        written.append(path)
    if made.missing:
        missing = ", ".join(messages.plain(kind) for kind in made.missing)
        print(f"Not written (could not be made): {missing}", file=sys.stderr)
    text = out / f"{file_stem(view.title, now)}.telegram.html"
    _write_private(text, "\n\n".join(board_text(model, messages, view)).encode("utf-8"))
    return [*written, text]


def write_demo(out: Path, language: str) -> int:
    """`python -m bot demo --out DIR`."""
    try:
        catalogue, texts = load_catalogue(), load_texts()
    except CatalogueError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    view = demo_board(catalogue[language], texts[language].plain("demo_title"), language)
    for path in write_board_files(view, out):
        print(path)
    return 0


def export_board(board_id: int, out: Path) -> int:
    """`python -m bot export --board ID --out DIR` for a board in DATABASE_URL."""
    try:
        settings = load_database_settings()
    except SettingsError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database)
    upgrade_schema(engine)
    with session_scope(engine) as session:
        board = session.get(Board, board_id)
        if board is None:
            print(f"No board with id {board_id} in the database.", file=sys.stderr)
            return 1
        view = board_store.board_view(session, board)
        zone = board.timezone
        catalogue, texts = load_catalogue(), load_texts()
        plan = plan_rows(session, board, texts[board.language], catalogue[board.language])
        session.commit()  # the plan's measures are kept in step with the entries
    for path in write_board_files(view, out, zone=zone, plan=plan):
        print(path)
    return 0
