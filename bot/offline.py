"""Without Telegram: write the demo board or a stored board as text, Markdown, JSON and PNG."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.model.board import BoardView
from bot.model.catalogue import CatalogueError, load_catalogue
from bot.model.demo import demo_board
from bot.render.files import board_json, board_markdown, file_stem
from bot.render.html import board_text
from bot.render.image import render_png
from bot.settings import SettingsError, load_database_settings
from bot.store import queries
from bot.store.db import make_engine, session_scope, upgrade_schema
from bot.store.tables import Board
from bot.texts import load_texts


def write_board_files(view: BoardView, out: Path) -> list[Path]:
    """Write `<stem>.html.txt`, `.md`, `.json` and `.png` of a board into `out`."""
    catalogue, texts = load_catalogue(), load_texts()
    model, messages = catalogue[view.language], texts[view.language]
    now = datetime.now(UTC)
    stem = file_stem(view.title, now)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        out / f"{stem}.telegram.html": "\n\n".join(board_text(model, messages, view)).encode(
            "utf-8"
        ),
        out / f"{stem}.md": board_markdown(model, messages, view, now).encode("utf-8"),
        out / f"{stem}.json": board_json(model, view, now).encode("utf-8"),
        out / f"{stem}.png": render_png(model, messages, view),
    }
    for path, content in files.items():
        path.write_bytes(content)
    return list(files)


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
        view = queries.board_view(session, board)
    for path in write_board_files(view, out):
        print(path)
    return 0
