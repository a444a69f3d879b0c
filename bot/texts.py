"""Every user-facing sentence, loaded from `prompts/<lang>/messages.toml` and validated at start."""

from __future__ import annotations

import html
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.model.catalogue import LANGUAGES, PROMPTS_DIR, REFERENCE_LANGUAGE, CatalogueError


class Html(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


def escape(text: str) -> Html:
    """A person's text made safe for Telegram HTML."""
    return Html(html.escape(text, quote=False))


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


def load_texts(directory: Path = PROMPTS_DIR) -> Texts:
    """Read `messages.toml` of every language; raise CatalogueError naming file and key."""
    loaded: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        path = directory / language / "messages.toml"
        try:
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError as exc:
            raise CatalogueError(f"{path}: file is missing") from exc
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path}: not valid TOML ({exc})") from exc
        for key, value in raw.items():
            if not isinstance(value, str) or not value.strip():
                raise CatalogueError(f"{path}: key {key}: must be a non-empty string")
        loaded[language] = raw
    reference = loaded[REFERENCE_LANGUAGE]
    for language, templates in loaded.items():
        path = directory / language / "messages.toml"
        for key in reference.keys() - templates.keys():
            raise CatalogueError(f"{path}: key {key}: missing (present in {REFERENCE_LANGUAGE})")
        for key in templates.keys() - reference.keys():
            raise CatalogueError(f"{path}: key {key}: unknown (not in {REFERENCE_LANGUAGE})")
        for key, template in templates.items():
            try:
                names = _placeholders(template)
            except ValueError as exc:
                raise CatalogueError(f"{path}: key {key}: broken placeholder ({exc})") from exc
            if names != _placeholders(reference[key]):
                raise CatalogueError(
                    f"{path}: key {key}: placeholders differ from {REFERENCE_LANGUAGE}"
                )
        if len(templates["weekday_names"].split(",")) != 7:
            raise CatalogueError(f"{path}: key weekday_names: needs seven names")
    return Texts({lang: Messages(lang, templates) for lang, templates in loaded.items()})
