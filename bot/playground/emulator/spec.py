"""Checking every request against the published Bot API (vendored: botapi/api.json, MIT)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPEC_PATH = Path(__file__).resolve().parent / "botapi" / "api.json"


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: frozenset[str]
    required: frozenset[str]


@lru_cache(maxsize=1)
def load_spec(path: Path = SPEC_PATH) -> dict[str, MethodSpec]:
    """Method name (lower case) → its parameters, from api.json."""
    if not path.exists():
        raise FileNotFoundError(
            f"The Bot API spec is needed for the emulator's request checks: {path} is missing"
        )
    raw = json.loads(path.read_text(encoding="utf-8"))
    methods: dict[str, MethodSpec] = {}
    for name, method in raw["methods"].items():
        fields = method.get("fields", [])
        methods[name.lower()] = MethodSpec(
            name=name,
            fields=frozenset(f["name"] for f in fields),
            required=frozenset(f["name"] for f in fields if f["required"]),
        )
    return methods


def check_request(method: str, params: dict[str, object]) -> list[str]:
    """Problems with a request: unknown method, unknown parameters, missing required ones."""
    spec = load_spec().get(method.lower())
    if spec is None:
        return [f"unknown method {method}"]
    problems = [f"{spec.name}: unknown parameter {p}" for p in sorted(params.keys() - spec.fields)]
    problems += [
        f"{spec.name}: missing required {p}" for p in sorted(spec.required - params.keys())
    ]
    return problems
