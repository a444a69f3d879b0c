"""The closing review (SPEC §6) as data: what blocks completion, what is missing, which steps hold."""

from __future__ import annotations

from dataclasses import dataclass

from bot.model.board import BoardView
from bot.model.catalogue import ActionStep, ModelText


@dataclass(frozen=True)
class StepCoverage:
    """One action step: its points, which of them still lack an Ist entry, who links them."""

    step: ActionStep
    missing: tuple[int, ...]

    @property
    def covered(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Review:
    """Blocking: points without Ist. Warnings: points without Soll. Then the action steps."""

    blocking: tuple[int, ...]
    warnings: tuple[int, ...]
    steps: tuple[StepCoverage, ...]

    @property
    def complete(self) -> bool:
        return not self.blocking


def review_board(model: ModelText, view: BoardView) -> Review:
    """The completeness check of a board."""
    empty = set(view.empty_points)
    return Review(
        blocking=tuple(view.empty_points),
        warnings=tuple(view.points_without_soll),
        steps=tuple(
            StepCoverage(step, tuple(p for p in step.points if p in empty))
            for step in model.action_steps
        ),
    )
