"""Account tokens keep when the seller's authorisation of the app ends, as last read
from the marketplace (Shopee's ``expire_time``), for warnings ahead of it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_tokens") as batch:
        batch.add_column(
            sa.Column(
                "authorisation_expires_at", sa.DateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("account_tokens") as batch:
        batch.drop_column("authorisation_expires_at")
