"""What features register by name: button presses, sweeps, sections, send kinds, erasers.

A feature's module registers its functions when imported (bot/app.py imports every feature in
one list, FEATURES). A name is registered once. Where the order matters (which sweep runs
first, a message's lines, which rows are erased first) the registry declares it: a name
outside it is refused, and `check_complete` tells at start which declared names no imported
module registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class IncompleteRegistry(RuntimeError):
    """A declared name was never registered: its module is not imported."""


class Registry(Generic[T]):
    """Named things of one kind (`what`, as error messages name it), in registration order or
    in the declared `order`."""

    def __init__(self, what: str, order: tuple[str, ...] | None = None) -> None:
        if order is not None and len(set(order)) != len(order):
            raise ValueError(f"{what} order names something twice: {order!r}")
        self.what = what
        self.order = order
        self._entries: dict[str, T] = {}

    def add(self, name: str, value: T) -> None:
        """Register `value` under `name`; a name registered twice or outside the order is refused."""
        if self.order is not None and name not in self.order:
            raise ValueError(f"{self.what} {name!r} has no place in its order {self.order!r}")
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} registered twice")
        self._entries[name] = value

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator: `@registry.register("name")` adds the decorated thing under `name`."""

        def register(value: T) -> T:
            self.add(name, value)
            return value

        return register

    def missing(self) -> tuple[str, ...]:
        """The declared names nothing registered (none for a registry without an order)."""
        return tuple(name for name in self.order or () if name not in self._entries)

    def check_complete(self) -> None:
        """Raise IncompleteRegistry when a declared name was never registered."""
        if missing := self.missing():
            raise IncompleteRegistry(
                f"{self.what} declared but never registered: {', '.join(missing)} "
                "(the module that registers it is not imported)"
            )

    def items(self) -> list[tuple[str, T]]:
        """What is registered, in the declared order (or registration order without one)."""
        names = self.order if self.order is not None else tuple(self._entries)
        return [(name, self._entries[name]) for name in names if name in self._entries]

    def values(self) -> list[T]:
        return [value for _, value in self.items()]

    def get(self, name: str) -> T | None:
        return self._entries.get(name)

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self.items()])

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {[name for name, _ in self.items()]!r})"
