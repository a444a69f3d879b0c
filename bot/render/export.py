"""The files of an export, built in one place for /export, /close and the command line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.model.board import BoardView
from bot.model.catalogue import ModelText
from bot.model.plan_rows import PlanRow
from bot.render.files import board_json, board_markdown, file_stem
from bot.render.image import render_png
from bot.render.report import render_pdf
from bot.texts import Html, Messages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: its name, content, media type, and the caption to send it with."""

    name: str
    data: bytes
    mime: str
    caption: Html


@dataclass(frozen=True)
class ExportResult:
    """The files that could be made, and the kinds (`file_image`, …) that could not."""

    files: list[ExportFile]
    missing: list[str]

    def missing_note(self, messages: Messages) -> Html | None:
        """The sentence saying which files are missing, or None when none is."""
        if not self.missing:
            return None
        kinds = ", ".join(messages.plain(kind) for kind in self.missing)
        return messages("export_part_failed", formats=kinds)


def build_export(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    *,
    now: datetime,
    plan: Sequence[PlanRow] | None = None,
) -> ExportResult:
    """Markdown, JSON, the PDF report and the board image at 2× (sent as a document).

    `now` must be timezone-aware; its zone is the reader's for dates and times in the files.
    A renderer that fails for this board does not take the others with it: its file is left
    out and named in `missing` (the PDF then goes without the picture if the image failed).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    stem = file_stem(view.title, now)
    files: list[ExportFile] = []
    missing: list[str] = []

    def caption(kind: str) -> Html:
        return messages("export_caption", title=view.title, format=messages.plain(kind))

    def attempt(kind: str, suffix: str, mime: str, make: Callable[[], bytes]) -> bytes | None:
        try:
            data = make()
        except Exception:
            log.exception("board %s: the %s file could not be made", view.id, suffix)
            missing.append(kind)
            return None
        files.append(ExportFile(f"{stem}.{suffix}", data, mime, caption(kind)))
        return data

    def png() -> bytes:
        return render_png(model, messages, view, scale=2)

    def markdown() -> bytes:
        return board_markdown(model, messages, view, now, plan).encode("utf-8")

    def json() -> bytes:
        return board_json(model, view, now, plan).encode("utf-8")

    picture: bytes | None = None
    try:
        picture = png()
    except Exception:
        log.exception("board %s: the image could not be drawn", view.id)

    def pdf() -> bytes:
        return render_pdf(
            model, messages, view, now=now, plan=plan, picture=picture, draw=picture is not None
        )

    attempt("file_markdown", "md", "text/markdown", markdown)
    attempt("file_json", "json", "application/json", json)
    attempt("file_report", "pdf", "application/pdf", pdf)
    if picture is not None:
        files.append(ExportFile(f"{stem}.png", picture, "image/png", caption("file_image")))
    else:
        missing.append("file_image")
    return ExportResult(files, missing)


def export_files(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    *,
    now: datetime,
    plan: Sequence[PlanRow] | None = None,
) -> list[ExportFile]:
    """The files of `build_export` (those that could be made)."""
    return build_export(model, messages, view, now=now, plan=plan).files
