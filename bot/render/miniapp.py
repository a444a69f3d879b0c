"""The Mini App's JSON: the model (what the page writes on the poster), the board's data
(counts and entries per point, the review) and the plan — plain values, never HTML.

Knows no database and no Telegram: it is given views, as the other renderers are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.model.board import BoardStatus, BoardView
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
from bot.model.plan import MeasureView
from bot.model.review import review_board
from bot.render.hyphens import hyphenate
from bot.render.plan import by_votes
from bot.texts import Messages

# the page's own sentences (bot/prompts/*/miniapp.toml) and the chat's words it reuses
PAGE_KEYS = (
    "app_title",
    "app_complete",
    "app_progress",
    "app_closed",
    "app_tab_board",
    "app_tab_review",
    "app_tab_plan",
    "app_missing_ist",
    "app_count_ist",
    "app_count_soll",
    "app_entries",
    "app_no_entries",
    "app_questions",
    "app_example",
    "app_example_source",
    "app_add",
    "app_placeholder",
    "app_submit",
    "app_edit",
    "app_save",
    "app_cancel",
    "app_take_back",
    "app_take_back_confirm",
    "app_edited",
    "app_you",
    "app_saved",
    "app_error",
    "app_refused",
    "app_too_many",
    "app_offline",
    "app_unavailable",
    "app_review_blocking",
    "app_review_warnings",
    "app_review_steps",
    "app_review_complete",
    "app_review_none",
    "app_step_covered",
    "app_step_missing",
    "app_plan_empty",
    "app_plan_owner",
    "app_plan_due",
    "app_plan_status",
    "app_plan_step",
    "app_plan_nobody",
    "app_plan_no_due",
    "app_plan_overdue",
    "app_plan_save",
    "app_plan_hint",
    "app_plan_votes",
    "app_plan_votes_one",
    "app_plan_heading",
    "app_plan_by_votes",
    "app_plan_by_number",
    "app_not_allowed",
    "kind_ist",
    "kind_soll",
    "plan_status_open",
    "plan_status_doing",
    "plan_status_done",
)


# what the page may say before anyone is known: nothing about any board
OPEN_KEYS = ("app_title", "app_unavailable", "app_offline")


def open_texts(messages: Messages) -> dict[str, str]:
    """The sentences the page shows when a launch is refused or the bot cannot be reached."""
    return {key: messages.plain(key) for key in OPEN_KEYS}


def page_texts(messages: Messages) -> dict[str, str]:
    """The page's sentences in one language, as plain text with `{name}` placeholders."""
    return {key: messages.plain(key) for key in PAGE_KEYS}


def model_data(model: ModelText, messages: Messages) -> dict[str, Any]:
    """The poster: areas in the model's layout and every point's explanation, guiding
    questions and worked example (marked as the source's or the project's own)."""
    return {
        "language": messages.language,
        "texts": page_texts(messages),
        "citation": model.source.citation,
        "own_mark": model.source.own_illustration,
        "areas": [
            {
                "number": a.number,
                "name": a.name,
                # the poster's narrow columns break long words only at syllables
                "poster_name": hyphenate(a.name),
                "place": a.place,
                "points": list(a.points),
            }
            for a in model.areas
        ],
        "points": [
            {
                "number": p.number,
                "title": p.title,
                "poster_title": hyphenate(p.title),
                "area": model.area_of(p.number).number,
                "explanation": p.explanation,
                "questions": list(p.questions),
                "example": [
                    {"kind": part.kind, "origin": part.origin, "text": part.text}
                    for part in p.example
                ],
            }
            for p in model.points
        ],
        "steps": [{"number": s.number, "title": s.title} for s in model.action_steps],
    }


def board_data(
    model: ModelText, view: BoardView, *, person_id: int, moderator: bool, version: str
) -> dict[str, Any]:
    """The board as the page shows it: counts and entries per point, completeness, review."""
    review = review_board(model, view)
    total = len(model.points)
    points = []
    for number in range(1, total + 1):
        entries = view.field(number)
        points.append(
            {
                "number": number,
                "ist": sum(1 for e in entries if e.kind is Kind.IST),
                "soll": sum(1 for e in entries if e.kind is Kind.SOLL),
                "entries": [
                    {
                        "id": e.id,
                        "kind": e.kind.value,
                        "text": e.text,
                        "author": e.author_name,
                        "at": e.created_at.isoformat(),
                        "edited": e.edited_at is not None,
                        "mine": e.author_id == person_id,
                    }
                    for e in entries
                ],
            }
        )
    return {
        "version": version,
        "title": view.title,
        "open": view.status is BoardStatus.OPEN,
        "filled": total - len(view.empty_points),
        "total": total,
        "complete": view.is_complete,
        "moderator": moderator,
        "points": points,
        "review": {
            "blocking": list(review.blocking),
            "warnings": list(review.warnings),
            "steps": [
                {"number": c.step.number, "points": list(c.step.points), "missing": list(c.missing)}
                for c in review.steps
            ],
        },
    }


def plan_data(
    model: ModelText,
    measures: Sequence[MeasureView],
    today: date,
    votes: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """The plan's measures with owner, due date, status, action step and, once the board has
    voted (SPEC §15), each measure's votes in its last vote and its `rank` in the order of
    `/plan stimmen` (most votes first, ties in area order), so the page need not work it out."""
    rank = (
        {}
        if votes is None
        else {m.number: place for place, m in enumerate(by_votes(model, measures, votes), 1)}
    )
    return {
        "voted": votes is not None,
        "measures": [
            {
                "number": m.number,
                "point": m.point,
                "text": m.text,
                "owner": m.owner.shown if m.owner is not None else None,
                "due": m.due.isoformat() if m.due is not None else None,
                "status": m.status.value,
                "step": m.step,
                "overdue": m.overdue(today),
                "votes": None if votes is None else votes.get(m.number, 0),
                "rank": rank.get(m.number),
            }
            for m in measures
        ],
    }
