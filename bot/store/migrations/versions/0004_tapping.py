"""tapping instead of typing: card faces, ForceReply prompts, the live status message, close
questions, welcomes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_face",
        sa.Column("card_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("ist", sa.Integer(), nullable=False),
        sa.Column("soll", sa.Integer(), nullable=False),
        sa.Column("newest", sa.Boolean(), nullable=False),
        sa.Column("with_next", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("card_id"),
    )
    with op.batch_alter_table("card_face", schema=None) as batch_op:
        batch_op.create_index("ix_card_face_board_id", ["board_id"], unique=False)

    op.create_table(
        "prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("board_id", "message_id", name="uq_prompt_message"),
    )

    op.create_table(
        "progress_message",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("shown", sa.String(length=64), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("board_id"),
    )
    with op.batch_alter_table("progress_message", schema=None) as batch_op:
        batch_op.create_index("ix_progress_due", ["due_at"], unique=False)

    op.create_table(
        "close_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("close_question", schema=None) as batch_op:
        batch_op.create_index("ix_close_question_board_id", ["board_id"], unique=False)

    op.create_table(
        "welcome_sent",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )


def downgrade() -> None:
    op.drop_table("welcome_sent")
    with op.batch_alter_table("close_question", schema=None) as batch_op:
        batch_op.drop_index("ix_close_question_board_id")
    op.drop_table("close_question")
    with op.batch_alter_table("progress_message", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_due")
    op.drop_table("progress_message")
    op.drop_table("prompt")
    with op.batch_alter_table("card_face", schema=None) as batch_op:
        batch_op.drop_index("ix_card_face_board_id")
    op.drop_table("card_face")
