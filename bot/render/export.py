"""The files of an export, built in one place for /export, /close and the command line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.model.board import BoardView
from bot.model.catalogue import ModelText
from bot.model.plan_rows import PlanRow
from bot.render.files import board_json, board_markdown, file_stem
from bot.render.image import render_png
from bot.render.report import render_pdf
from bot.texts import Html, Messages


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: its name, content, media type, and the caption to send it with."""

    name: str
    data: bytes
    mime: str
    caption: Html


def export_files(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    *,
    now: datetime,
    plan: Sequence[PlanRow] | None = None,
) -> list[ExportFile]:
    """Markdown, JSON, the PDF report and the board image at 2× (sent as a document).

    `now` must be timezone-aware; its zone is the reader's for dates and times in the files.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    stem = file_stem(view.title, now)
    picture = render_png(model, messages, view, scale=2)

    def caption(kind: str) -> Html:
        return messages("export_caption", title=view.title, format=messages.plain(kind))

    return [
        ExportFile(
            f"{stem}.md",
            board_markdown(model, messages, view, now, plan).encode("utf-8"),
            "text/markdown",
            caption("file_markdown"),
        ),
        ExportFile(
            f"{stem}.json",
            board_json(model, view, now, plan).encode("utf-8"),
            "application/json",
            caption("file_json"),
        ),
        ExportFile(
            f"{stem}.pdf",
            render_pdf(model, messages, view, now=now, plan=plan, picture=picture),
            "application/pdf",
            caption("file_report"),
        ),
        ExportFile(f"{stem}.png", picture, "image/png", caption("file_image")),
    ]
