"""The weekly digest (the weekly reminder, SPEC §7): what came in since the last one, the empty
points by area (linked to their cards where Telegram has links), who has not contributed yet,
and what features add (the plan's measures due) — one message within Telegram's limit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.model.catalogue import ModelText
from bot.render.split import MESSAGE_LIMIT, telegram_length
from bot.texts import Html, Messages, escape

_SINCE_FORMATS = {"de": "EEEE, d. MMMM", "en": "EEEE, d MMMM"}


def card_link(chat_id: int, thread_id: int, message_id: int) -> str | None:
    """A t.me/c link to a message in a supergroup; basic groups have none."""
    text = str(chat_id)
    if not text.startswith("-100"):
        return None
    internal = text[4:]
    if thread_id:
        return f"https://t.me/c/{internal}/{thread_id}/{message_id}"
    return f"https://t.me/c/{internal}/{message_id}"


@dataclass(frozen=True)
class Digest:
    """What one digest says; `cards` maps a point to (chat id, message id) of its newest card."""

    title: str
    since: datetime
    zone: str
    new_entries: int
    contributors: int
    empty: Sequence[int]
    point_count: int
    cards: Mapping[int, tuple[int, int]]
    thread_id: int
    silent: Sequence[str]
    sections: Sequence[Html]


def since_date(moment: datetime, zone: str, language: str) -> str:
    """A day as people write it, e.g. "Montag, 23. November"."""
    pattern = _SINCE_FORMATS.get(language, _SINCE_FORMATS["de"])
    return format_datetime(moment.astimezone(ZoneInfo(zone)), pattern, locale=language)


def _empty_points(
    model: ModelText, messages: Messages, digest: Digest, *, links: bool
) -> list[str]:
    empty = set(digest.empty)
    blocks: list[str] = []
    for area in model.areas:
        points = [p for p in area.points if p in empty]
        if not points:
            continue
        lines = [f"<b>{area.number}. {escape(area.name)}</b>"]
        for number in points:
            heading = model.point(number).heading
            card = digest.cards.get(number)
            link = card_link(card[0], digest.thread_id, card[1]) if card and links else None
            if link is not None:
                lines.append("• " + messages("digest_point_link", link=link, point=heading))
            else:
                lines.append(f"• {escape(heading)}")
        blocks.append("\n".join(lines))
    return blocks


def cut_list(
    items: Sequence[str], budget: int, separator: str, more: Callable[[int], str]
) -> str | None:
    """As many items as fit in `budget` (Telegram length), then "… und N weitere" for the rest;
    None when not even that fits."""
    gap = telegram_length(separator)
    # prefix[k]: the length of the first k items, each followed by a separator
    prefix = [0]
    for item in items:
        prefix.append(prefix[-1] + telegram_length(item) + gap)
    if not items or prefix[-1] - gap <= budget:
        return separator.join(items)
    for keep in range(len(items) - 1, -1, -1):
        marker = more(len(items) - keep)
        if prefix[keep] + telegram_length(marker) <= budget:
            return separator.join([*items[:keep], marker])
    return None


def digest_text(model: ModelText, messages: Messages, digest: Digest) -> Html:
    """The digest as one message of at most 4096 characters: lists that do not fit end in
    "… und N weitere"."""
    since = since_date(digest.since, digest.zone, messages.language)
    head = [
        messages("digest_title", title=digest.title),
        messages(
            "digest_news",
            since=since,
            entries=digest.new_entries,
            contributors=digest.contributors,
        )
        if digest.new_entries
        else messages("digest_news_none", since=since),
        "",
        messages("digest_empty", count=len(digest.empty), total=digest.point_count),
    ]
    how = messages("digest_how")
    fixed: list[str] = []
    for links in (True, False):
        fixed = ["\n".join(head), *_empty_points(model, messages, digest, links=links), how]
        if telegram_length("\n\n".join(fixed)) <= MESSAGE_LIMIT:
            break
    room = MESSAGE_LIMIT - telegram_length("\n\n".join(fixed))

    def more(count: int) -> str:
        return messages("digest_more", count=count)

    silent_frame = telegram_length(messages("digest_silent", names=Html(""))) + 2
    silent_need = (
        silent_frame + sum(telegram_length(escape(n)) + 2 for n in digest.silent)
        if digest.silent
        else 0
    )
    sections_need = sum(telegram_length(line) + 1 for line in digest.sections) + 2
    silent_room = min(silent_need, max(room // 2, room - sections_need))
    extra: list[str] = []
    if digest.silent:
        names = cut_list(
            [escape(name) for name in digest.silent], silent_room - silent_frame, ", ", more
        )
        if names is not None:
            extra.append(messages("digest_silent", names=Html(names)))
    if digest.sections:
        used = sum(telegram_length(block) + 2 for block in extra)
        lines = cut_list(list(digest.sections), room - used - 2, "\n", more)
        if lines is not None:
            extra.append(lines)
    return Html("\n\n".join([*fixed[:-1], *extra, fixed[-1]]))
