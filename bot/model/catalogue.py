"""Load and validate the model's content (areas, topic points, action steps) from `bot/prompts/` (inside the package)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

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


class ExamplePart(_Strict):
    """The Ist or Soll part of a point's worked example, and whose it is.

    `origin = "source"`: the source's example in the project's words; `quotes` (reference
    language only) are the source's own sentences it rests on. `origin = "project"`: the project's
    own illustration where the source names only a target, marked wherever it is shown.
    """

    kind: Literal["ist", "soll"]
    origin: Literal["source", "project"]
    text: str = Field(min_length=1)
    quotes: tuple[str, ...] = ()

    @property
    def from_source(self) -> bool:
        return self.origin == "source"


class TopicPoint(_Strict):
    number: int
    key: str
    title: str
    explanation: str = Field(min_length=1)
    questions: tuple[str, ...] = Field(min_length=1)
    example: tuple[ExamplePart, ...] = Field(min_length=1, max_length=2)

    @property
    def heading(self) -> str:
        """The point as people name it: `<number>. <title>`."""
        return f"{self.number}. {self.title}"


class ActionStep(_Strict):
    """A step of the source; `source_points` are the points the source itself links it to."""

    number: int
    key: str
    title: str
    points: tuple[int, ...] = Field(min_length=1)
    source_points: tuple[int, ...] = ()
    source_ref: str = ""
    source_quote: str = ""

    @property
    def project_points(self) -> tuple[int, ...]:
        """The points the project links to this step (the source does not)."""
        return tuple(p for p in self.points if p not in self.source_points)


class Source(_Strict):
    citation: str
    own_illustration: str = Field(min_length=1)


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
        if not set(step.source_points) <= set(step.points):
            fail(f"action_steps[{index}].source_points", "must be among the step's points")
        if bool(step.source_points) != bool(step.source_ref):
            fail(f"action_steps[{index}].source_ref", "names where the source links the step")
    for index, topic in enumerate(text.points):
        kinds = [part.kind for part in topic.example]
        if kinds not in (["ist"], ["ist", "soll"]):
            fail(f"points[{index}].example", "an Ist part first, then at most one Soll part")
        for part in topic.example:
            if part.quotes and not part.from_source:
                fail(f"points[{index}].example", "only a part from the source quotes it")


def _check_quotes(path: Path, text: ModelText) -> None:
    """The reference language names the source's sentences behind every part from the source."""
    for index, point in enumerate(text.points):
        for part in point.example:
            if part.from_source and not part.quotes:
                raise CatalogueError(
                    f"{path}: key points[{index}].example: a part from the source needs quotes"
                )


def _structure(text: ModelText) -> object:
    return (
        [(a.number, a.key, a.place, a.points) for a in text.areas],
        [
            (p.number, p.key, len(p.questions), [(e.kind, e.origin) for e in p.example])
            for p in text.points
        ],
        [(s.number, s.key, s.points, s.source_points) for s in text.action_steps],
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
        if language == REFERENCE_LANGUAGE:
            _check_quotes(path, text)
        texts[language] = text
    reference = _structure(texts[REFERENCE_LANGUAGE])
    for language, text in texts.items():
        if _structure(text) != reference:
            path = directory / language / "model.toml"
            raise CatalogueError(
                f"{path}: keys, numbers, question counts, example parts or step links differ from the reference language "
                f"'{REFERENCE_LANGUAGE}'"
            )
    return Catalogue(languages=texts)
