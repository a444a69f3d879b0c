"""The registry features register into (bot/registry.py), and the bot's registries complete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

import pytest

from bot import app
from bot.context import Context
from bot.handlers.core import sweep
from bot.registry import IncompleteRegistry, Registry


def test_registered_things_come_back_in_registration_order() -> None:
    registry: Registry[int] = Registry("number")
    registry.add("two", 2)
    registry.add("one", 1)
    assert registry.items() == [("two", 2), ("one", 1)]
    assert list(registry) == ["two", "one"]
    assert registry.values() == [2, 1]
    assert registry["one"] == 1
    assert registry.get("three") is None
    assert "two" in registry
    assert "three" not in registry
    assert len(registry) == 2
    registry.check_complete()  # nothing declared, nothing missing


def test_the_decorator_registers_and_returns_the_function_unchanged() -> None:
    registry: Registry[Callable[[], int]] = Registry("function")

    @registry.register("answer")
    def answer() -> int:
        return 42

    assert registry["answer"] is answer
    assert answer() == 42


def test_a_name_registered_twice_is_refused() -> None:
    registry: Registry[int] = Registry("number")
    registry.add("one", 1)
    with pytest.raises(ValueError, match="number 'one' registered twice"):
        registry.add("one", 11)
    assert registry["one"] == 1


def test_a_declared_order_wins_over_the_order_of_imports() -> None:
    registry: Registry[str] = Registry("step", order=("first", "second", "third"))
    registry.add("third", "c")
    registry.add("first", "a")
    assert registry.items() == [("first", "a"), ("third", "c")]
    registry.add("second", "b")
    assert list(registry) == ["first", "second", "third"]


def test_a_name_outside_the_order_is_refused() -> None:
    registry: Registry[str] = Registry("step", order=("first",))
    with pytest.raises(ValueError, match="step 'other' has no place in its order"):
        registry.add("other", "x")
    assert len(registry) == 0


def test_an_order_naming_something_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="names something twice"):
        Registry("step", order=("first", "first"))


def test_a_declared_name_never_registered_is_named() -> None:
    registry: Registry[str] = Registry("eraser", order=("cards", "entries", "votes"))
    registry.add("entries", "e")
    assert registry.missing() == ("cards", "votes")
    with pytest.raises(
        IncompleteRegistry, match="eraser declared but never registered: cards, votes"
    ):
        registry.check_complete()
    registry.add("cards", "c")
    registry.add("votes", "v")
    registry.check_complete()


def test_every_ordered_registry_of_the_bot_is_complete() -> None:
    app.check_registries()
    assert sweep.SWEEPERS in app.ORDERED_REGISTRIES
    # the Monday digest (the reminders' sweep) goes out before the autopilot's card
    names = list(sweep.SWEEPERS)
    assert names.index("reminders") < names.index("autopilot")


async def test_the_sweeps_run_in_their_declared_order(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    sweepers: Registry[sweep.Sweeper] = Registry("sweeper", order=("early", "late"))

    def recording(name: str) -> sweep.Sweeper:
        async def run(context: Context, now: datetime) -> int:
            ran.append(name)
            return 1

        return run

    sweepers.add("late", recording("late"))
    sweepers.add("early", recording("early"))
    monkeypatch.setattr(sweep, "SWEEPERS", sweepers)
    sent = await sweep.sweep_all(cast(Context, object()), datetime(2026, 1, 5, tzinfo=UTC))
    assert ran == ["early", "late"]
    assert sent == {"early": 1, "late": 1}
