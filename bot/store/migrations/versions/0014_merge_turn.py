"""one head again: this turn's migrations (0009 the seams, 0010 confirmations, 0012 the Mini
App's links, 0013 votes) were written side by side on 0008

Revision ID: 0014
Revises: 0009, 0010, 0012, 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

revision: str = "0014"
down_revision: tuple[str, ...] = ("0009", "0010", "0012", "0013")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: only the history joins here."""


def downgrade() -> None:
    """Nothing to change."""
