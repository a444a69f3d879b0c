"""A measure of the plan (SPEC §10) as the report and files show it, filled by the plan feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PlanRow:
    """One measure: its number, the point it comes from, what is to be done, by whom, by when."""

    number: int
    point: int
    text: str
    owner: str | None
    due: date | None
    status: str  # as the reader reads it, e.g. "offen", "läuft", "erledigt"
    step: int | None  # the action step (Handlungsschritt) it serves
    votes: int | None = None  # its votes in the board's last vote (SPEC §15); None: no vote yet
