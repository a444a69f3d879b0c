"""The plan (SPEC §10) as Telegram HTML pages, as a Markdown table and as JSON-ready rows;
the plan's lines in the follow-up, the digest and `/status`. Every person's text is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.model.catalogue import ModelText
from bot.model.plan import MeasureView, PlanCounts, Status, counts, parse_status
from bot.model.plan_rows import PlanRow
from bot.render.dates import reader_date
from bot.render.split import MESSAGE_LIMIT, shorten_plain, telegram_length
from bot.texts import Html, Messages, escape
from bot.unitext import safe_line, safe_text

PAGE_SIZE = 8  # measures per page: one status button row each stays easy to hit on a phone
TEXT_SHOWN = 600  # characters of a measure's text on a page; the files hold it whole
LIST_SHOWN = 120  # characters of a measure's text in the follow-up and the digest
DIGEST_LISTED = 8  # measures per digest list; more are counted
HEADER_ROOM = 900  # the page's header (title, summary, page line) never needs more


class Grouping(StrEnum):
    """How `/plan` groups its measures (the letter travels in the paging buttons)."""

    AREA = "a"
    STEP = "s"
    VOTES = "v"  # by the votes of the board's last vote (SPEC §15), ties in area order


@dataclass(frozen=True)
class PlanPage:
    """One page of the plan: its text and the numbers of the measures on it (for buttons)."""

    text: Html
    numbers: tuple[int, ...]
    index: int  # 0-based
    count: int


def status_word(messages: Messages, status: Status) -> str:
    """`offen`, `läuft`, `erledigt` (or open, doing, done) as the reader reads it."""
    return messages.plain("plan_status_" + status.value)


def owner_shown(messages: Messages, measure: MeasureView) -> Html:
    if measure.owner is None:
        return messages("plan_no_owner")
    return escape(measure.owner.shown)


def due_shown(messages: Messages, due: date | None) -> str:
    return reader_date(due, messages) if due is not None else messages.plain("plan_no_due")


def _facts(messages: Messages, measure: MeasureView, today: date) -> Html:
    facts = messages(
        "plan_facts",
        owner=owner_shown(messages, measure),
        due=due_shown(messages, measure.due),
        status=status_word(messages, measure.status),
        step=measure.step if measure.step is not None else "–",
    )
    if measure.overdue(today):
        facts = Html(f"{facts} {messages('plan_overdue_mark')}")
    return facts


def votes_shown(messages: Messages, votes: int) -> str:
    """`1 Stimme`, `3 Stimmen` (or vote, votes)."""
    if votes == 1:
        return messages.plain("vote_votes_one")
    return messages.plain_format("vote_votes_many", votes=votes)


def measure_block(
    model: ModelText,
    messages: Messages,
    measure: MeasureView,
    today: date,
    votes: Mapping[int, int] | None = None,
) -> Html:
    """A measure: number and point, its text (cut visibly at TEXT_SHOWN), owner, due, status;
    with `votes` (a vote was held), its votes."""
    heading = messages(
        "plan_measure_heading",
        number=measure.number,
        point=model.point(measure.point).heading,
    )
    if votes is not None:
        mark = messages("vote_plan_mark", votes=votes_shown(messages, votes.get(measure.number, 0)))
        heading = Html(f"{heading} · {mark}")
    text = shorten_plain(measure.text, TEXT_SHOWN)
    return Html(f"{heading}\n{text}\n{_facts(messages, measure, today)}")


def in_area_order(model: ModelText, measures: Sequence[MeasureView]) -> list[MeasureView]:
    """The measures as the plan lists them by area: area, then point, then number."""
    area_of = {point: area.number for area in model.areas for point in area.points}
    return sorted(measures, key=lambda m: (area_of.get(m.point, 0), m.point, m.number))


def by_votes(
    model: ModelText, measures: Sequence[MeasureView], votes: Mapping[int, int]
) -> list[MeasureView]:
    """The measures by votes, most first; ties in area order."""
    ordered = in_area_order(model, measures)
    position = {m.number: index for index, m in enumerate(ordered)}
    return sorted(ordered, key=lambda m: (-votes.get(m.number, 0), position[m.number]))


def _groups(
    model: ModelText,
    messages: Messages,
    measures: Sequence[MeasureView],
    grouping: Grouping,
    votes: Mapping[int, int] | None,
) -> list[tuple[Html, list[MeasureView]]]:
    if grouping is Grouping.VOTES:
        return [(messages("vote_plan_heading"), by_votes(model, measures, votes or {}))]
    if grouping is Grouping.AREA:
        return [
            (
                messages("plan_area_heading", number=area.number, name=area.name),
                sorted(
                    (m for m in measures if m.point in area.points),
                    key=lambda m: (m.point, m.number),
                ),
            )
            for area in model.areas
        ]
    groups = [
        (
            messages("plan_step_heading", number=step.number, title=step.title),
            [m for m in measures if m.step == step.number],
        )
        for step in model.action_steps
    ]
    known = {step.number for step in model.action_steps}
    groups.append(
        (messages("plan_step_none_heading"), [m for m in measures if m.step not in known])
    )
    return groups


def summary(messages: Messages, tally: PlanCounts) -> Html:
    """The plan's summary line: n measures, n without owner, n overdue, n done."""
    return messages(
        "plan_summary",
        total=tally.total,
        without_owner=tally.without_owner,
        overdue=tally.overdue,
        done=tally.done,
    )


def plan_pages(
    model: ModelText,
    messages: Messages,
    title: str,
    measures: Sequence[MeasureView],
    today: date,
    grouping: Grouping = Grouping.AREA,
    votes: Mapping[int, int] | None = None,
) -> list[PlanPage]:
    """The plan as pages of one message each (within 4096 characters, at most PAGE_SIZE
    measures); a group's heading is repeated on the page where the group goes on. With
    `votes` (the board held a vote) every measure shows its votes."""
    tally = counts(measures, today)
    titles = {
        Grouping.AREA: "plan_title",
        Grouping.STEP: "plan_title_steps",
        Grouping.VOTES: "vote_plan_title",
    }
    heading = messages(titles[grouping], title=shorten_plain(title, 200))
    if not measures:
        text = Html(f"{heading}\n{messages('plan_empty')}")
        return [PlanPage(text, (), 0, 1)]
    budget = MESSAGE_LIMIT - HEADER_ROOM
    pages: list[list[tuple[Html, list[tuple[int, Html]]]]] = []
    page: list[tuple[Html, list[tuple[int, Html]]]] = []
    used = 0
    listed = 0
    for group_heading, members in _groups(model, messages, measures, grouping, votes):
        current: list[tuple[int, Html]] | None = None
        for measure in members:
            block = measure_block(model, messages, measure, today, votes)
            cost = telegram_length(block) + 2
            opening = telegram_length(group_heading) + 2 if current is None else 0
            if page and (listed >= PAGE_SIZE or used + cost + opening > budget):
                pages.append(page)
                page, used, listed, current = [], 0, 0, None
                opening = telegram_length(group_heading) + 2
            if current is None:
                current = []
                page.append((group_heading, current))
            current.append((measure.number, block))
            used += cost + opening
            listed += 1
    if page:
        pages.append(page)
    rendered: list[PlanPage] = []
    for index, groups in enumerate(pages):
        lines: list[str] = [heading, summary(messages, tally)]
        if grouping is Grouping.STEP:
            lines.append(f"<i>{messages('plan_steps_note')}</i>")
        if len(pages) > 1:
            lines.append(messages("plan_page", page=index + 1, pages=len(pages)))
        numbers = [number for _, blocks in groups for number, _ in blocks]
        sections = [
            "\n".join([group_heading, "\n\n".join(block for _, block in blocks)])
            for group_heading, blocks in groups
        ]
        text = Html("\n".join(lines) + "\n\n" + "\n\n".join(sections))
        rendered.append(PlanPage(text, tuple(numbers), index, len(pages)))
    return rendered


# ---- the plan in the group's other messages ---------------------------------------------------


def _listed(model: ModelText, messages: Messages, measure: MeasureView) -> Html:
    return messages(
        "plan_listed",
        number=measure.number,
        point=measure.point,
        text=shorten_plain(measure.text, LIST_SHOWN),
        owner=owner_shown(messages, measure),
        due=due_shown(messages, measure.due),
    )


def followup_text(
    model: ModelText, messages: Messages, measures: Sequence[MeasureView], due: date
) -> Html:
    """The day-before note: the measures due tomorrow, each with its owner."""
    lines = [messages("plan_followup", due=reader_date(due, messages), count=len(measures))]
    lines += [_listed(model, messages, m) for m in measures]
    lines.append(messages("plan_followup_how"))
    text = Html("\n".join(lines))
    if telegram_length(text) <= MESSAGE_LIMIT:
        return text
    kept = lines[:1] + [_listed(model, messages, m) for m in measures[:DIGEST_LISTED]]
    kept.append(messages("plan_more", count=len(measures) - DIGEST_LISTED))
    return Html("\n".join([*kept, lines[-1]]))


def _capped(model: ModelText, messages: Messages, measures: Sequence[MeasureView]) -> list[Html]:
    lines = [_listed(model, messages, m) for m in measures[:DIGEST_LISTED]]
    if len(measures) > DIGEST_LISTED:
        lines.append(messages("plan_more", count=len(measures) - DIGEST_LISTED))
    return lines


def digest_lines(
    model: ModelText,
    messages: Messages,
    soon: Sequence[MeasureView],
    late: Sequence[MeasureView],
) -> list[Html]:
    """The digest's plan part: measures due in the coming week, and overdue ones."""
    lines: list[Html] = []
    if soon:
        lines += [messages("plan_digest_soon", count=len(soon)), *_capped(model, messages, soon)]
    if late:
        lines += [messages("plan_digest_late", count=len(late)), *_capped(model, messages, late)]
    return lines


def status_lines(messages: Messages, tally: PlanCounts) -> list[Html]:
    """`/status`: the plan's counts, when the board has measures."""
    if tally.total == 0:
        return []
    return [messages("plan_status_line", summary=summary(messages, tally))]


# ---- files ----------------------------------------------------------------------------------


def plan_json(rows: Sequence[PlanRow]) -> list[dict[str, object]]:
    """The plan as JSON-ready objects of the shape in `docs/plan.schema.json`."""
    listed: list[dict[str, object]] = []
    for row in rows:
        status = parse_status(row.status)
        listed.append(
            {
                "number": row.number,
                "point": row.point,
                "text": safe_text(row.text),
                "owner": safe_line(row.owner) if row.owner is not None else None,
                "due": row.due.isoformat() if row.due is not None else None,
                "status": status.value if status is not None else row.status,
                "status_label": row.status,
                "step": row.step,
                "votes": row.votes,
            }
        )
    return listed
