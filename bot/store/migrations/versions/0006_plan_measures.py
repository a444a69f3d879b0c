"""the plan: one measure per Soll entry, numbered per board and never reused

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("owner_name", sa.Text(), nullable=True),
        sa.Column("owner_username", sa.String(length=32), nullable=True),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["entry.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id"),
        sa.UniqueConstraint("board_id", "number", name="uq_measure_board_number"),
    )
    op.create_index("ix_measure_board_id", "measure", ["board_id"])
    op.create_index("ix_measure_owner_id", "measure", ["owner_id"])
    op.create_index("ix_measure_due_on", "measure", ["due_on"])


def downgrade() -> None:
    op.drop_index("ix_measure_due_on", table_name="measure")
    op.drop_index("ix_measure_owner_id", table_name="measure")
    op.drop_index("ix_measure_board_id", table_name="measure")
    op.drop_table("measure")
