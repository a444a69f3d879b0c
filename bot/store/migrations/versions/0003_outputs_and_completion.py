"""heavy outputs remembered per chat, topic and command; completion announced once a day;
claims of scheduled posts by kind (reminder, autopilot, …); the people the bot has seen in a group

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "output_sent",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("thread_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "thread_id", "command"),
    )
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("completion_announced_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "group_member",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("quiet", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "person_id"),
    )
    with op.batch_alter_table("reminder_sent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="reminder")
        )
        batch_op.drop_constraint("uq_reminder_due", type_="unique")
        batch_op.create_unique_constraint("uq_claim_kind_due", ["board_id", "kind", "due_at"])


def downgrade() -> None:
    op.drop_table("group_member")
    with op.batch_alter_table("reminder_sent", schema=None) as batch_op:
        batch_op.drop_constraint("uq_claim_kind_due", type_="unique")
        batch_op.create_unique_constraint("uq_reminder_due", ["board_id", "due_at"])
        batch_op.drop_column("kind")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("completion_announced_at")
    op.drop_table("output_sent")
