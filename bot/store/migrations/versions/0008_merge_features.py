"""one head again: the features' migrations (0004 tapping, 0005 autopilot, 0006 plan,
0007 privacy) were written side by side on 0003

Revision ID: 0008
Revises: 0004, 0005, 0006, 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: tuple[str, ...] = ("0004", "0005", "0006", "0007")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: only the history joins here."""


def downgrade() -> None:
    """Nothing to change."""
