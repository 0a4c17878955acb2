"""When each account was last checked and found in step: a cycle with nothing to do
records no run, only this mark (beside the order bookmark it moves anyway), so the
run log grows with what happened, not with time.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_bookmarks") as batch:
        batch.add_column(
            sa.Column("in_step_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("order_bookmarks") as batch:
        batch.drop_column("in_step_at")
