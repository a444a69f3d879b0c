"""votes on the plan: a board's votes, their Telegram polls and each person's picks

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vote_board_id", "vote", ["board_id"])
    op.create_index("ix_vote_started_by", "vote", ["started_by"])
    op.create_index("ix_vote_ends_at", "vote", ["ends_at"])
    op.create_index(
        "uq_vote_running_per_board",
        "vote",
        ["board_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "vote_poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("numbers", sa.Text(), nullable=False),
        sa.Column("poll_id", sa.String(length=64), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id"),
        sa.UniqueConstraint("vote_id", "part", name="uq_vote_poll_part"),
    )
    op.create_index("ix_vote_poll_vote_id", "vote_poll", ["vote_id"])
    op.create_index(
        "ix_vote_poll_unstopped",
        "vote_poll",
        ["vote_id"],
        sqlite_where=sa.text("stopped = 0"),
        postgresql_where=sa.text("stopped = false"),
    )
    op.create_table(
        "vote_ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_row_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["poll_row_id"], ["vote_poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_row_id", "person_id", "number", name="uq_vote_ballot_pick"),
    )
    op.create_index("ix_vote_ballot_poll_row_id", "vote_ballot", ["poll_row_id"])
    op.create_index("ix_vote_ballot_person_id", "vote_ballot", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_vote_ballot_person_id", table_name="vote_ballot")
    op.drop_index("ix_vote_ballot_poll_row_id", table_name="vote_ballot")
    op.drop_table("vote_ballot")
    op.drop_index("ix_vote_poll_unstopped", table_name="vote_poll")
    op.drop_index("ix_vote_poll_vote_id", table_name="vote_poll")
    op.drop_table("vote_poll")
    op.drop_index("uq_vote_running_per_board", table_name="vote")
    op.drop_index("ix_vote_ends_at", table_name="vote")
    op.drop_index("ix_vote_started_by", table_name="vote")
    op.drop_index("ix_vote_board_id", table_name="vote")
    op.drop_table("vote")
