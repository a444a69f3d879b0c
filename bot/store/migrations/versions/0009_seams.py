"""seams: prompts know their chat (message ids are per chat), updates set aside (dead letters),
the durable outbox

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
    # a prompt was asked in its board's chat (boards that moved took their prompts along before)
    op.execute(
        "UPDATE prompt SET chat_id = (SELECT board.chat_id FROM board WHERE board.id = prompt.board_id)"
    )
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_constraint("uq_prompt_message", type_="unique")
        batch_op.create_unique_constraint("uq_prompt_message", ["chat_id", "message_id"])
    op.create_table(
        "dead_letter",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.create_index("ix_dead_letter_chat_id", ["chat_id"], unique=False)
        batch_op.create_index("ix_dead_letter_person_id", ["person_id"], unique=False)
    op.create_table(
        "outbox_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox_send", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_send_unsent",
            ["chat_id", "id"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_send", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_send_unsent",
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )
    op.drop_table("outbox_send")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_letter_person_id")
        batch_op.drop_index("ix_dead_letter_chat_id")
    op.drop_table("dead_letter")
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.drop_constraint("uq_prompt_message", type_="unique")
        batch_op.create_unique_constraint("uq_prompt_message", ["board_id", "message_id"])
        batch_op.drop_column("chat_id")
