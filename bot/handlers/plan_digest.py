"""The weekly digest of a complete board (SPEC §7): no empty points any more, but while the plan
has open measures the digest goes on with the plan's section only — due in the coming week,
overdue, and done since the last digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.context import BotData
from bot.handlers.core.sections import PLAN_DIGEST_SECTIONS, lines_of
from bot.handlers.plan import DIGEST_DAYS
from bot.model.plan import MeasureView, Status, due_within, local_today
from bot.render.plan import LIST_SHOWN, digest_lines
from bot.render.reminder import since_date
from bot.render.split import shorten_plain
from bot.store import plan as store
from bot.store.tables import Board
from bot.texts import Html, Messages

DONE_LISTED = 10  # done measures named; the rest counted


def has_open_measures(measures: Sequence[MeasureView]) -> bool:
    return any(m.status is not Status.DONE for m in measures)


def plan_digest_complete_line(messages: Messages, open_count: int) -> Html:
    """`offen sind noch 3 Maßnahmen`, and for one: `offen ist noch 1 Maßnahme`."""
    if open_count == 1:
        return messages("plan_digest_complete_one")
    return messages("plan_digest_complete", open=open_count)


def plan_only_digest(
    session: Session, data: BotData, board: Board, measures: Sequence[MeasureView], now: datetime
) -> Html:
    """The plan-only digest of a complete board with open measures."""
    assert board.id is not None
    model = data.model(board.language)
    messages = data.messages(board.language)
    since = board.last_digest_at or board.created_at
    soon, late = due_within(measures, local_today(now, board.timezone), DIGEST_DAYS)
    open_count = sum(1 for m in measures if m.status is not Status.DONE)
    lines: list[str] = [
        messages("plan_digest_title", title=board.title),
        plan_digest_complete_line(messages, open_count),
    ]
    section = digest_lines(model, messages, soon, late)
    done = store.measures_done_since(session, board_id=board.id, since=since)
    when = since_date(since, board.timezone, messages.language)
    if done:
        section.append(messages("plan_digest_done", since=when, count=len(done)))
        section += [
            messages("plan_digest_done_line", number=n, point=p, text=shorten_plain(t, LIST_SHOWN))
            for n, p, t in done[:DONE_LISTED]
        ]
        if len(done) > DONE_LISTED:
            section.append(messages("plan_more", count=len(done) - DONE_LISTED))
    if not section:
        section.append(messages("plan_digest_quiet", since=when))
    extra = lines_of(PLAN_DIGEST_SECTIONS, session, board, messages, model, now)
    lines += ["", *section, *(["", *extra] if extra else []), "", messages("plan_digest_how")]
    return Html("\n".join(lines))
