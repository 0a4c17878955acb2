"""Indexes the console's pages and the programme reports read by: products in scope
or of a status in SKU order, listings per account and state, the newest failed
listings, orders of a period, and the oversold queue, each covering what it reads
where that spares a table read.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_products_producer_id_sku_key", "products", ["producer_id", "sku_key"]),
    ("ix_products_status_sku_key", "products", ["status", "sku_key"]),
    ("ix_listings_account_id_state", "listings", ["account_id", "state"]),
    ("ix_listings_state_updated_at", "listings", ["state", "updated_at"]),
    ("ix_orders_placed_at", "orders", ["placed_at", "status", "first_seen_at"]),
    ("ix_orders_first_seen_at", "orders", ["first_seen_at"]),
    ("ix_orders_oversold_settlement", "orders", ["oversold", "settlement"]),
    (
        "ix_order_lines_order_id_sums",
        "order_lines",
        ["order_id", "product_id", "quantity", "unit_price"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
