"""Board, card and status as Telegram HTML; every person's text is escaped."""

from __future__ import annotations

from bot.model.board import BoardStatus, BoardView, EntryView, area_progress
from bot.model.catalogue import ActionStep, ModelText
from bot.model.entry_text import Kind
from bot.model.review import review_board
from bot.render.split import (
    MESSAGE_LIMIT,
    Line,
    pack,
    pack_sections,
    shorten_plain,
    split_plain,
    telegram_length,
)
from bot.texts import Html, Messages, escape


def card(model: ModelText, messages: Messages, number: int) -> Html:
    """The card of a topic point: heading with area, explanation, guiding questions, how to answer."""
    point = model.point(number)
    area = model.area_of(number)
    lines = [
        f"<b>{escape(point.heading)}</b> · {messages('card_area', number=area.number, name=area.name)}",
        "",
        f"<i>{escape(point.explanation)}</i>",
        "",
        f"<b>{messages('card_questions')}</b>",
        *(f"• {escape(q)}" for q in point.questions),
        "",
        messages("card_how", number=number),
    ]
    return Html("\n".join(lines))


# Room kept above any one line for the headings that travel with it (title, area, point, kind).
HEADROOM = 1000
ENTRY_BUDGET = MESSAGE_LIMIT - HEADROOM
TITLE_BUDGET = 400
NAME_SHOWN = 64  # Telegram's own limit for a first name


def _entry_lines(messages: Messages, entry: EntryView) -> list[Line]:
    """An entry as lines: escaped first, then cut so every line with its author fits."""
    name = entry.author_name
    if len(name) > NAME_SHOWN:
        name = name[:NAME_SHOWN] + "…"
    author = f" <i>{messages('by_author', name=name)}</i>"
    budget = ENTRY_BUDGET - telegram_length(author) - 2
    pieces = split_plain(entry.text, budget)
    lines = [f"  {escape(piece)}" for piece in pieces]
    lines[0] = "•" + lines[0][1:]
    lines[-1] += author
    return [Line(Html(line)) for line in lines]


def _point_lines(model: ModelText, messages: Messages, view: BoardView, number: int) -> list[Line]:
    heading = f"<b>{escape(model.point(number).heading)}</b>"
    ist = view.field(number, Kind.IST)
    soll = view.field(number, Kind.SOLL)
    if not ist:
        heading += f" {messages('empty_mark')}"
    lines = [Line(Html(heading), heading=bool(ist or soll))]
    for kind, entries in ((Kind.IST, ist), (Kind.SOLL, soll)):
        if entries:
            lines.append(Line(Html(f"<u>{messages('kind_' + kind.value)}</u>"), heading=True))
            for entry in entries:
                lines.extend(_entry_lines(messages, entry))
    return lines


def board_title(messages: Messages, view: BoardView) -> Html:
    """The board's first line: title (cut to a fixed budget) and how many points are filled."""
    filled = view.point_count - len(view.empty_points)
    shown = shorten_plain(view.title, TITLE_BUDGET)
    title = messages("board_title", title=shown, filled=filled, total=view.point_count)
    if view.status == "closed":
        title = Html(title + messages("board_closed_suffix"))
    return title


def board_text(model: ModelText, messages: Messages, view: BoardView) -> list[Html]:
    """The whole board, one section per area, split into as few messages as possible.

    The title and each area's header travel with the first point after them, so no message
    ends with a heading whose content is in the next one.
    """
    sections: list[list[Line]] = []
    lead = [Line(board_title(messages, view), heading=True)]
    for area in model.areas:
        lead.append(Line(Html(f"\n<b>━━ {area.number}. {escape(area.name).upper()} ━━</b>"), True))
        for number in area.points:
            sections.append([*lead, *_point_lines(model, messages, view, number)])
            lead = []
    return pack_sections(sections)


def point_list(model: ModelText, numbers: list[int], messages: Messages) -> Html:
    if not numbers:
        return messages("status_none")
    return Html(", ".join(escape(model.point(n).heading) for n in numbers))


def status(
    model: ModelText,
    messages: Messages,
    view: BoardView,
    current_point: int | None,
    reminder_line: Html,
) -> Html:
    """Progress: filled points per area, empty points, points without Soll, counts."""
    filled = view.point_count - len(view.empty_points)
    lines: list[str] = [
        messages("status_title", title=view.title, filled=filled, total=view.point_count)
    ]
    if view.status == "closed":
        lines.append(messages("status_closed"))
    lines.append("")
    for progress in area_progress(model, view):
        area = model.area(progress.area)
        mark = "✅" if progress.filled == progress.total else "▫️"
        line = messages(
            "status_area",
            number=area.number,
            name=area.name,
            filled=progress.filled,
            total=progress.total,
        )
        lines.append(f"{mark} {line}")
    lines.append("")
    lines.append(messages("status_empty", points=point_list(model, view.empty_points, messages)))
    lines.append(
        messages("status_no_soll", points=point_list(model, view.points_without_soll, messages))
    )
    lines.append(
        messages("status_counts", entries=len(view.entries), contributors=view.contributors)
    )
    if current_point is not None:
        lines.append(messages("status_current", point=model.point(current_point).heading))
    lines.append(reminder_line)
    return pack([Html("\n".join(lines))])[0]


def _numbers(points: tuple[int, ...] | list[int]) -> str:
    return ", ".join(str(p) for p in points)


def step_links(messages: Messages, step: ActionStep) -> Html:
    """Who links a step to its points: the source (and where) or the project."""
    parts: list[str] = []
    if step.source_points:
        parts.append(
            messages("step_link_source", points=_numbers(step.source_points), ref=step.source_ref)
        )
    if step.project_points:
        parts.append(messages("step_link_project", points=_numbers(step.project_points)))
    return Html(" · ".join(parts))


def review(model: ModelText, messages: Messages, view: BoardView) -> list[Html]:
    """The closing review (SPEC §6): blocking, warnings, action steps, what to do next."""
    result = review_board(model, view)
    lines: list[Line] = [Line(messages("review_title", title=view.title), heading=True)]
    if result.blocking:
        lines.append(Line(Html("\n" + messages("review_blocking")), heading=True))
        lines += [Line(Html(f"❌ {escape(model.point(n).heading)}")) for n in result.blocking]
    else:
        lines.append(Line(Html("\n" + messages("review_blocking_none"))))
    if result.warnings:
        lines.append(Line(Html("\n" + messages("review_warnings")), heading=True))
        lines += [Line(Html(f"⚠️ {escape(model.point(n).heading)}")) for n in result.warnings]
    else:
        lines.append(Line(Html("\n" + messages("review_warnings_none"))))
    lines.append(Line(Html("\n" + messages("review_steps")), heading=True))
    for coverage in result.steps:
        step = coverage.step
        if coverage.missing:
            line = messages(
                "review_step_open",
                number=step.number,
                title=step.title,
                points=_numbers(step.points),
                missing=_numbers(coverage.missing),
            )
        else:
            line = messages(
                "review_step_covered",
                number=step.number,
                title=step.title,
                points=_numbers(step.points),
            )
        lines.append(Line(Html(f"{line}\n    <i>{step_links(messages, step)}</i>")))
    if view.status is BoardStatus.CLOSED:
        key = "review_next_closed"
    else:
        key = "review_next_complete" if result.complete else "review_next_incomplete"
    lines.append(Line(Html("\n" + messages(key))))
    return pack_sections([lines])


def example(model: ModelText, messages: Messages, number: int) -> Html:
    """The worked example of one point: the source's parts, and the project's own marked so."""
    point = model.point(number)
    lines = [messages("example_title", point=point.heading), ""]
    for part in point.example:
        kind = messages.plain("kind_" + part.kind)
        if part.from_source:
            lines.append(messages("example_part", kind=kind, text=part.text))
        else:
            lines.append(
                messages(
                    "example_part_own",
                    kind=kind,
                    mark=model.source.own_illustration,
                    text=part.text,
                )
            )
    lines += ["", f"<i>{escape(model.source.citation)}</i>"]
    return Html("\n".join(lines))
