"""People named in messages."""

from __future__ import annotations

from bot.texts import Html, escape


def mention(person_id: int, name: str) -> Html:
    """A mention that reaches the person also without a username (Telegram's text mention)."""
    return Html(f'<a href="tg://user?id={int(person_id)}">{escape(name)}</a>')
