"""Account leases carry a fencing epoch: it grows whenever a lease passes to a new
holder, and every write made under a lease checks it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_leases") as batch:
        batch.add_column(
            sa.Column("epoch", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("account_leases") as batch:
        batch.drop_column("epoch")
