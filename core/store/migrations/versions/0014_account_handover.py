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
    with op.batch_alter_table("channel_accounts") as batch:
        batch.add_column(sa.Column("takes_over_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("handover_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key(
            "fk_channel_accounts_takes_over_id",
            "channel_accounts",
            ["takes_over_id"],
            ["id"],
        )
        batch.create_unique_constraint(
            "uq_channel_accounts_takes_over_id", ["takes_over_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch:
        batch.drop_constraint("uq_channel_accounts_takes_over_id", type_="unique")
        batch.drop_constraint("fk_channel_accounts_takes_over_id", type_="foreignkey")
        batch.drop_column("handover_at")
        batch.drop_column("takes_over_id")
