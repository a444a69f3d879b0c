"""Every user-facing sentence, loaded from `prompts/<lang>/messages.toml` and validated at start."""

from __future__ import annotations

import html
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.model.catalogue import LANGUAGES, PROMPTS_DIR, REFERENCE_LANGUAGE, CatalogueError
from bot.unitext import safe_text

_TAGS = re.compile(r"<[^>]+>")


class Html(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


def escape(text: str) -> Html:
    """A person's text made safe for Telegram HTML (line breaks unified, bidi controls closed)."""
    return Html(html.escape(safe_text(text), quote=False))


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Messages:
    """The sentences of one language."""

    language: str
    templates: dict[str, str]

    def __call__(self, key: str, **values: object) -> Html:
        """The sentence `key` with values filled in; plain strings are escaped, Html is kept."""
        template = self.templates[key]
        safe = {
            name: value if isinstance(value, Html) else escape(str(value))
            for name, value in values.items()
        }
        return Html(template.format(**safe))

    def plain_format(self, key: str, **values: object) -> str:
        """A sentence as plain text (button notices, alerts): the template's markup removed,
        then the values filled in as they are (a title "R&amp;D <intern>" stays so)."""
        template = html.unescape(_TAGS.sub("", self.templates[key]))
        return template.format(**{name: safe_text(str(v)) for name, v in values.items()})

    def plain(self, key: str) -> str:
        """A sentence without placeholders, as stored (for labels drawn into images or files)."""
        return self.templates[key]

    def weekday(self, index: int) -> str:
        return self.templates["weekday_names"].split(",")[index]


@dataclass(frozen=True)
class Texts:
    """The sentences in every language."""

    languages: dict[str, Messages]

    def __getitem__(self, language: str) -> Messages:
        return self.languages.get(language, self.languages[REFERENCE_LANGUAGE])


def _read_language(directory: Path, language: str) -> tuple[dict[str, str], dict[str, Path]]:
    """Every `*.toml` of a language except `model.toml`, merged; a key may stand in one file only.

    Each feature keeps its sentences in a file of its own (`messages.toml`, `plan.toml`, …).
    """
    folder = directory / language
    paths = sorted(p for p in folder.glob("*.toml") if p.name != "model.toml")
    if not any(p.name == "messages.toml" for p in paths):
        raise CatalogueError(f"{folder / 'messages.toml'}: file is missing")
    merged: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        try:
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path}: not valid TOML ({exc})") from exc
        for key, value in raw.items():
            if not isinstance(value, str) or not value.strip():
                raise CatalogueError(f"{path}: key {key}: must be a non-empty string")
            if key in merged:
                raise CatalogueError(f"{path}: key {key}: also in {origin[key].name}")
            merged[key] = value
            origin[key] = path
    return merged, origin


def load_texts(directory: Path = PROMPTS_DIR) -> Texts:
    """Read the sentences of every language; raise CatalogueError naming file and key."""
    read = {language: _read_language(directory, language) for language in LANGUAGES}
    loaded = {language: templates for language, (templates, _) in read.items()}
    reference = loaded[REFERENCE_LANGUAGE]
    for language, (templates, origin) in read.items():
        folder = directory / language
        for key in reference.keys() - templates.keys():
            raise CatalogueError(f"{folder}: key {key}: missing (present in {REFERENCE_LANGUAGE})")
        for key in templates.keys() - reference.keys():
            raise CatalogueError(f"{origin[key]}: key {key}: unknown (not in {REFERENCE_LANGUAGE})")
        for key, template in templates.items():
            path = origin[key]
            try:
                names = _placeholders(template)
            except ValueError as exc:
                raise CatalogueError(f"{path}: key {key}: broken placeholder ({exc})") from exc
            if names != _placeholders(reference[key]):
                raise CatalogueError(
                    f"{path}: key {key}: placeholders differ from {REFERENCE_LANGUAGE}"
                )
        if len(templates["weekday_names"].split(",")) != 7:
            raise CatalogueError(f"{origin['weekday_names']}: key weekday_names: needs seven names")
    return Texts({lang: Messages(lang, templates) for lang, templates in loaded.items()})
