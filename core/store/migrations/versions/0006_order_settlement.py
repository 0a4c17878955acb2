"""Oversold orders keep how an officer settled them: how, who, when and why.

Revision ID: 0006
Revises: 0005 (re-chained onto 0005 when merged after it)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("settlement", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("settled_by", sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("settle_note", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("settle_note")
        batch.drop_column("settled_at")
        batch.drop_column("settled_by")
        batch.drop_column("settlement")
