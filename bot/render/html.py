"""Board, card and status as Telegram HTML; every person's text is escaped."""

from __future__ import annotations

from bot.model.board import BoardView, EntryView, area_progress
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
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


def review(model: ModelText, messages: Messages, view: BoardView) -> list[Html]:
    """The closing review (SPEC §6): blocking, warnings, action steps, what to do next."""
    lines: list[str] = [messages("review_title", title=view.title), ""]
    empty = view.empty_points
    if empty:
        lines.append(messages("review_blocking"))
        lines += [f"❌ {escape(model.point(n).heading)}" for n in empty]
    else:
        lines.append(messages("review_blocking_none"))
    lines.append("")
    without_soll = view.points_without_soll
    if without_soll:
        lines.append(messages("review_warnings"))
        lines += [f"⚠️ {escape(model.point(n).heading)}" for n in without_soll]
    else:
        lines.append(messages("review_warnings_none"))
    lines += ["", messages("review_steps")]
    empty_set = set(empty)
    for step in model.action_steps:
        points = ", ".join(str(p) for p in step.points)
        missing = [p for p in step.points if p in empty_set]
        if missing:
            lines.append(
                messages(
                    "review_step_open",
                    number=step.number,
                    title=step.title,
                    points=points,
                    missing=", ".join(str(p) for p in missing),
                )
            )
        else:
            lines.append(
                messages("review_step_covered", number=step.number, title=step.title, points=points)
            )
    lines.append("")
    lines.append(messages("review_next_incomplete" if empty else "review_next_complete"))
    return pack([Html(line) for line in lines])


def example(model: ModelText, messages: Messages, number: int) -> Html:
    """The worked example of one point, with the source cited."""
    point = model.point(number)
    return Html(
        "\n".join(
            [
                messages("example_title", point=point.heading),
                "",
                escape(point.example),
                "",
                f"<i>{escape(model.source.citation)}</i>",
            ]
        )
    )
