"""The auditor's trail: audit events (written unsealed by every business change,
then chained by the sealer), the chain's head, and the values sent for each run item.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("account", sa.String(64), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.UniqueConstraint("seq", name="uq_audit_events_seq"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor", "at"])
    op.create_index("ix_audit_events_subject_at", "audit_events", ["subject", "at"])
    op.create_index("ix_audit_events_account_at", "audit_events", ["account", "at"])
    op.create_index("ix_audit_events_action_at", "audit_events", ["action", "at"])
    op.create_index("ix_audit_events_run_id", "audit_events", ["run_id"])
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["id"],
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )
    with op.batch_alter_table("sync_run_items") as batch:
        batch.add_column(sa.Column("sent", sa.Text(), nullable=True))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "movements_through", sa.BigInteger(), server_default="0", nullable=False
        ),
        sa.Column(
            "orders_through", sa.BigInteger(), server_default="0", nullable=False
        ),
        sa.Column("runs_through", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    # what was recorded before the trail began: no event can describe it
    op.execute(
        "INSERT INTO audit_head (id, seq, hash, movements_through, orders_through,"
        " runs_through) SELECT 1, 0, '',"
        " (SELECT COALESCE(MAX(id), 0) FROM stock_movements),"
        " (SELECT COALESCE(MAX(id), 0) FROM orders),"
        " (SELECT COALESCE(MAX(id), 0) FROM sync_runs)"
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("sync_run_items") as batch:
        batch.drop_column("sent")
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    for name in ("run_id", "action_at", "account_at", "subject_at", "actor_at", "at"):
        op.drop_index(f"ix_audit_events_{name}", table_name="audit_events")
    op.drop_table("audit_events")
