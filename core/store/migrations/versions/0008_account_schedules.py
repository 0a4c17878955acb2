"""Due times of the scheduler's jobs per account, shared by every daemon through the
database: when each account's cycle (and daily reconcile) is next due, how often it
failed in a row, until when it backs off, and why it last failed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_schedules",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("channel_accounts.id"),
            primary_key=True,
        ),
        sa.Column("job", sa.String(length=16), primary_key=True),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("backoff_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_account_schedules_due", "account_schedules", ["job", "next_due_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_account_schedules_due", table_name="account_schedules")
    op.drop_table("account_schedules")
