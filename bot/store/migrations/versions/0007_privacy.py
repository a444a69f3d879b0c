"""privacy: boards found by their closing time (retention deletes those closed too long)

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.create_index("ix_board_closed_at", ["closed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_index("ix_board_closed_at")
