"""the autopilot (/pace) on each board: weekdays, local time, the next due instant (indexed);
when the last weekly digest went out

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pace_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pace_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("next_pace_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_board_next_pace", ["next_pace_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_index("ix_board_next_pace")
        batch_op.drop_column("last_digest_at")
        batch_op.drop_column("next_pace_at")
        batch_op.drop_column("pace_time")
        batch_op.drop_column("pace_days")
