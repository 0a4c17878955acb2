"""Every run keeps its own row: a run that starts over the window of one cut short
(killed, failed) no longer takes over that run's row, so the earlier run stays on
record as it ended (``running`` until the sweep closes it ``abandoned``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNIQUE = "uq_sync_runs_kind_account_id_window_start"
_INDEX = "ix_sync_runs_account_id_kind"


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_constraint(_UNIQUE, type_="unique")
    op.create_index(_INDEX, "sync_runs", ["account_id", "kind"])


def downgrade() -> None:
    repeated = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT COUNT(*) FROM (SELECT 1 FROM sync_runs "
                "WHERE window_start IS NOT NULL "
                "GROUP BY kind, account_id, window_start HAVING COUNT(*) > 1) AS r"
            )
        )
        .scalar_one()
    )
    if repeated:
        raise RuntimeError(
            f"cannot downgrade below 0009: {repeated} order windows were run more "
            "than once and each run is kept; the earlier schema allowed one run per "
            "window"
        )
    op.drop_index(_INDEX, table_name="sync_runs")
    with op.batch_alter_table("sync_runs") as batch:
        batch.create_unique_constraint(_UNIQUE, ["kind", "account_id", "window_start"])
