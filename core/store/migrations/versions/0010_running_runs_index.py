"""An index for the sweep's look-up of runs left ``running``, per account (the
run log grows without bound; the running runs are few).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sync_runs_outcome_account_id", "sync_runs", ["outcome", "account_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_sync_runs_outcome_account_id", table_name="sync_runs")
