"""Board, card and status as Telegram HTML; every person's text is escaped."""

from __future__ import annotations

from bot.model.board import BoardView, EntryView, area_progress
from bot.model.catalogue import ModelText
from bot.model.entry_text import Kind
from bot.render.split import MESSAGE_LIMIT, pack, split_plain, telegram_length
from bot.texts import Html, Messages, escape

ENTRY_BUDGET = MESSAGE_LIMIT - 300


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


def _entry_lines(messages: Messages, entry: EntryView) -> list[Html]:
    author = f" <i>{messages('by_author', name=entry.author_name)}</i>"
    pieces = split_plain(entry.text, ENTRY_BUDGET)
    lines = [f"  {escape(piece)}" for piece in pieces]
    lines[0] = "•" + lines[0][1:]
    lines[-1] += author
    return [Html(line) for line in lines]


def _point_blocks(model: ModelText, messages: Messages, view: BoardView, number: int) -> list[Html]:
    heading = f"<b>{escape(model.point(number).heading)}</b>"
    ist = view.field(number, Kind.IST)
    soll = view.field(number, Kind.SOLL)
    if not ist:
        heading += f" {messages('empty_mark')}"
    lines: list[Html] = [Html(heading)]
    for kind, entries in ((Kind.IST, ist), (Kind.SOLL, soll)):
        if entries:
            lines.append(Html(f"<u>{messages('kind_' + kind.value)}</u>"))
            for entry in entries:
                lines.extend(_entry_lines(messages, entry))
    whole = Html("\n".join(lines))
    if telegram_length(whole) <= MESSAGE_LIMIT:
        return [whole]
    return pack(lines)


TITLE_SHOWN = 200


def board_title(messages: Messages, view: BoardView) -> Html:
    filled = view.point_count - len(view.empty_points)
    shown = view.title if len(view.title) <= TITLE_SHOWN else view.title[:TITLE_SHOWN] + "…"
    title = messages("board_title", title=shown, filled=filled, total=view.point_count)
    if view.status == "closed":
        title = Html(title + messages("board_closed_suffix"))
    return title


def board_text(model: ModelText, messages: Messages, view: BoardView) -> list[Html]:
    """The whole board, one section per area, split into as few messages as possible."""
    blocks: list[Html] = [board_title(messages, view)]
    for area in model.areas:
        blocks.append(Html(f"\n<b>━━ {area.number}. {escape(area.name).upper()} ━━</b>"))
        for number in area.points:
            blocks.extend(_point_blocks(model, messages, view, number))
    return pack(blocks)


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
