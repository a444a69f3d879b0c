"""the Mini App: one opaque token per board for its links (SPEC §13)

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "board_link",
        sa.Column("board_id", sa.Integer(), sa.ForeignKey("board.id"), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("board_id"),
        sa.UniqueConstraint("token"),
    )


def downgrade() -> None:
    op.drop_table("board_link")
