"""A shop moving from one marketplace API to another: the account that takes over
another (a Tokopedia shop bound to TikTok Shop), and from when.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a table rebuild: on SQLite a rebuild of channel_accounts
    # is refused while rows of other tables point at it, and SQLite adds no foreign
    # key to an existing table; the store checks the account taken over exists.
    op.add_column(
        "channel_accounts", sa.Column("takes_over_id", sa.Integer(), nullable=True)
    )
    op.add_column(
        "channel_accounts",
        sa.Column("handover_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_channel_accounts_takes_over_id",
        "channel_accounts",
        ["takes_over_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_channel_accounts_takes_over_id", table_name="channel_accounts")
    # plain DROP COLUMN (SQLite 3.35+), not a rebuild, for the reason above
    op.drop_column("channel_accounts", "handover_at")
    op.drop_column("channel_accounts", "takes_over_id")
