"""Load and validate the model's content (areas, topic points, action steps) from `bot/prompts/` (inside the package)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROMPTS_DIR = Path(str(files("bot") / "prompts"))
LANGUAGES = ("de", "en")
REFERENCE_LANGUAGE = "de"
POINT_COUNT = 20
AREA_COUNT = 6
PLACES = ("left-top", "left-bottom", "centre", "right-top", "right-bottom", "bottom")


class CatalogueError(Exception):
    """The catalogue in `prompts/` is broken; the message names file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Area(_Strict):
    number: int
    key: str
    name: str
    aliases: tuple[str, ...]
    place: str
    points: tuple[int, ...]


class TopicPoint(_Strict):
    number: int
    key: str
    title: str
    explanation: str = Field(min_length=1)
    questions: tuple[str, ...] = Field(min_length=1)
    example: str = Field(min_length=1)

    @property
    def heading(self) -> str:
        """The point as people name it: `<number>. <title>`."""
        return f"{self.number}. {self.title}"


class ActionStep(_Strict):
    number: int
    key: str
    title: str
    points: tuple[int, ...] = Field(min_length=1)


class Source(_Strict):
    citation: str


class ModelText(_Strict):
    source: Source
    areas: tuple[Area, ...]
    points: tuple[TopicPoint, ...]
    action_steps: tuple[ActionStep, ...]

    def area_of(self, point: int) -> Area:
        """The area a topic point belongs to."""
        for area in self.areas:
            if point in area.points:
                return area
        raise KeyError(point)

    def point(self, number: int) -> TopicPoint:
        """The topic point with this number (1–20)."""
        return self.points[number - 1]

    def area(self, number: int) -> Area:
        """The area with this number (1–6)."""
        return self.areas[number - 1]


@dataclass(frozen=True)
class Catalogue:
    """The model in every language, validated."""

    languages: dict[str, ModelText]

    def __getitem__(self, language: str) -> ModelText:
        return self.languages.get(language, self.languages[REFERENCE_LANGUAGE])

    @property
    def reference(self) -> ModelText:
        return self.languages[REFERENCE_LANGUAGE]


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: file is missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML ({exc})") from exc


def _located(exc: ValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    return f"key {location}: {first['msg']}"


def _check_structure(path: Path, text: ModelText) -> None:
    def fail(key: str, problem: str) -> None:
        raise CatalogueError(f"{path}: key {key}: {problem}")

    if len(text.areas) != AREA_COUNT:
        fail("areas", f"expected {AREA_COUNT} areas, found {len(text.areas)}")
    if [p.number for p in text.points] != list(range(1, POINT_COUNT + 1)):
        fail("points", f"points must be numbered 1–{POINT_COUNT} in order without gaps")
    covered: list[int] = []
    for index, area in enumerate(text.areas):
        if area.number != index + 1:
            fail(f"areas[{index}].number", f"expected {index + 1}")
        if area.place != PLACES[index]:
            fail(f"areas[{index}].place", f"expected {PLACES[index]}")
        if not area.points:
            fail(f"areas[{index}].points", "an area needs at least one point")
        covered.extend(area.points)
    if covered != list(range(1, POINT_COUNT + 1)):
        fail("areas.points", "areas must cover points 1–20 once each, in order")
    for index, step in enumerate(text.action_steps):
        if step.number != index + 1:
            fail(f"action_steps[{index}].number", f"expected {index + 1}")
        for point in step.points:
            if not 1 <= point <= POINT_COUNT:
                fail(f"action_steps[{index}].points", f"unknown point {point}")


def _structure(text: ModelText) -> object:
    return (
        [(a.number, a.key, a.place, a.points) for a in text.areas],
        [(p.number, p.key, len(p.questions)) for p in text.points],
        [(s.number, s.key, s.points) for s in text.action_steps],
    )


def load_catalogue(directory: Path = PROMPTS_DIR) -> Catalogue:
    """Read `<lang>/model.toml` for every language and validate it; raise CatalogueError."""
    texts: dict[str, ModelText] = {}
    for language in LANGUAGES:
        path = directory / language / "model.toml"
        raw = _read_toml(path)
        try:
            text = ModelText.model_validate(raw)
        except ValidationError as exc:
            raise CatalogueError(f"{path}: {_located(exc)}") from exc
        _check_structure(path, text)
        texts[language] = text
    reference = _structure(texts[REFERENCE_LANGUAGE])
    for language, text in texts.items():
        if _structure(text) != reference:
            path = directory / language / "model.toml"
            raise CatalogueError(
                f"{path}: keys, numbers or question counts differ from the reference language "
                f"'{REFERENCE_LANGUAGE}'"
            )
    return Catalogue(languages=texts)
