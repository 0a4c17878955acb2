"""SQLModel tables of the canonical store; no other module defines a table.

Rows are built from validated domain objects by the repositories; a table class is never
trusted to validate input. Timestamps are stored in UTC and read back timezone-aware.
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that must be timezone-aware going in and is UTC coming out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing a naive datetime: the store keeps UTC instants")
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a SQLModel table class (for bulk statements)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


#: 64-bit keys on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

MOVEMENT_REASONS = (
    "receipt",
    "adjustment",
    "order_reserved",
    "order_released",
    "order_shipped",
    "return",
)


class ProducerRow(SQLModel, table=True):
    __tablename__ = "producers"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=255)
    kind: str = Field(max_length=8)
    province: str = Field(max_length=64)
    regency: str = Field(max_length=64)
    sentra: str | None = Field(default=None, max_length=128)
    institution: str | None = Field(default=None, max_length=255)
    business_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class ProductRow(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("price > 0", name="price_positive"),
        # the console's product list: in scope, or of a status, in SKU order
        sa.Index("ix_products_producer_id_sku_key", "producer_id", "sku_key"),
        sa.Index("ix_products_status_sku_key", "status", "sku_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    sku_key: str = Field(max_length=64, unique=True)
    producer_id: int = Field(foreign_key="producers.id", index=True)
    name: str = Field(max_length=255)
    description: str = Field(default="", sa_type=sa.Text)
    category: str = Field(default="", max_length=255)
    price: int = Field(sa_type=sa.BigInteger)
    weight_grams: int
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    image_urls: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    condition: str = Field(max_length=8)
    status: str = Field(max_length=10, index=True)
    provenance: str = Field(default="", sa_type=sa.Text)
    fingerprint: str = Field(max_length=64)
    #: Digest of the spreadsheet row this product was last imported from (with its
    #: header), so an identical row is known unchanged without parsing it. Any write
    #: that does not come from such a row clears it.
    source_digest: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class StockMovementRow(SQLModel, table=True):
    __tablename__ = "stock_movements"
    __table_args__ = (
        sa.Index("ix_stock_movements_product_id_id", "product_id", "id"),
        sa.CheckConstraint(
            "reason IN (" + ", ".join(f"'{r}'" for r in MOVEMENT_REASONS) + ")",
            name="reason_known",
        ),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    product_id: int = Field(foreign_key="products.id")
    location: str = Field(max_length=32)
    reason: str = Field(max_length=16)
    on_hand_delta: int
    reserved_delta: int
    reference: str = Field(default="", max_length=255)
    actor: str = Field(max_length=128)
    note: str = Field(default="", sa_type=sa.Text)
    at: datetime = Field(sa_type=UtcDateTime)
    idempotency_key: str = Field(max_length=255, unique=True)


class ChannelAccountRow(SQLModel, table=True):
    __tablename__ = "channel_accounts"
    __table_args__ = (sa.UniqueConstraint("marketplace", "shop_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=64, unique=True)
    marketplace: str = Field(max_length=16)
    shop_id: str = Field(max_length=64)
    credentials_ref: str | None = Field(default=None, max_length=64)
    enabled: bool = True
    allocation: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    #: The account whose shop this one serves from ``handover_at`` on.
    #: (``channel_accounts.id``, checked by the store: SQLite cannot add the key.)
    takes_over_id: int | None = Field(default=None, unique=True, index=True)
    handover_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ChannelAccountProducerRow(SQLModel, table=True):
    __tablename__ = "channel_account_producers"

    account_id: int = Field(foreign_key="channel_accounts.id", primary_key=True)
    producer_id: int = Field(foreign_key="producers.id", primary_key=True)


class ListingRow(SQLModel, table=True):
    __tablename__ = "listings"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "product_id"),
        sa.UniqueConstraint("account_id", "external_id"),
        # listings per account and state (status, console) read the index alone
        sa.Index("ix_listings_account_id_state", "account_id", "state"),
        # the console's newest failed listings
        sa.Index("ix_listings_state_updated_at", "state", "updated_at"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    account_id: int = Field(foreign_key="channel_accounts.id")
    product_id: int = Field(foreign_key="products.id", index=True)
    external_id: str | None = Field(default=None, max_length=64)
    external_variant_id: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=16)
    last_price: int | None = Field(default=None, sa_type=sa.BigInteger)
    last_stock: int | None = None
    last_content_hash: str | None = Field(default=None, max_length=64)
    last_pushed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "external_id"),
        sa.Index("ix_orders_account_id_status", "account_id", "status"),
        # a period's orders (programme reports, the console's order list), covering
        # what the reports filter on, so that they read no order row
        sa.Index("ix_orders_placed_at", "placed_at", "status", "first_seen_at"),
        sa.Index("ix_orders_first_seen_at", "first_seen_at"),
        # the oversold queue: oversold orders not yet settled
        sa.Index("ix_orders_oversold_settlement", "oversold", "settlement"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    account_id: int = Field(foreign_key="channel_accounts.id")
    external_id: str = Field(max_length=64)
    status: str = Field(max_length=24)
    raw_status: str = Field(max_length=64)
    total_amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(default="IDR", max_length=3)
    oversold: bool = False
    #: How far the order's stock effects have gone in the ledger: ``none``,
    #: ``reserved``, ``released``, ``shipped`` or ``returned`` (written in the same
    #: transaction as the movements, whose keys keep them exactly once).
    stock_state: str = Field(
        default="none", max_length=16, sa_column_kwargs={"server_default": "none"}
    )
    placed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    remote_updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    first_seen_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    #: How an officer settled the order as oversold (``handled`` or ``cancelled``),
    #: who, when and why; all null while it is open. Ingestion never writes these.
    settlement: str | None = Field(default=None, max_length=16)
    settled_by: str | None = Field(default=None, max_length=128)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    settle_note: str | None = Field(default=None, max_length=500)


class OrderLineRow(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "line_no"),
        # an order's lines with what the programme reports sum, read from the index
        sa.Index(
            "ix_order_lines_order_id_sums",
            "order_id",
            "product_id",
            "quantity",
            "unit_price",
        ),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    order_id: int = Field(sa_type=BigId, foreign_key="orders.id")
    line_no: int
    product_id: int | None = Field(default=None, foreign_key="products.id", index=True)
    external_sku: str = Field(max_length=64)
    quantity: int
    unit_price: int = Field(sa_type=sa.BigInteger)


class SyncRunRow(SQLModel, table=True):
    __tablename__ = "sync_runs"
    __table_args__ = (
        sa.Index("ix_sync_runs_account_id_kind", "account_id", "kind"),
        # the sweep's look-up of runs left running, per account
        sa.Index("ix_sync_runs_outcome_account_id", "outcome", "account_id"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    kind: str = Field(max_length=16)
    account_id: int | None = Field(default=None, foreign_key="channel_accounts.id")
    trigger: str = Field(max_length=128)
    window_start: datetime | None = Field(default=None, sa_type=UtcDateTime)
    window_end: datetime | None = Field(default=None, sa_type=UtcDateTime)
    started_at: datetime = Field(sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome: str = Field(max_length=16)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    #: Why a run ended ``failed`` (the marketplace's or the store's message).
    error: str | None = Field(default=None, sa_type=sa.Text)


class SyncRunItemRow(SQLModel, table=True):
    __tablename__ = "sync_run_items"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    run_id: int = Field(sa_type=BigId, foreign_key="sync_runs.id", index=True)
    subject: str = Field(max_length=128)
    operation: str = Field(max_length=32)
    ok: bool
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_type=sa.Text)
    at: datetime = Field(sa_type=UtcDateTime)
    #: The values sent for the item, canonical JSON text (0013).
    sent: str | None = Field(default=None, sa_type=sa.Text)


class AccountTokenRow(SQLModel, table=True):
    __tablename__ = "account_tokens"

    account_id: int = Field(foreign_key="channel_accounts.id", primary_key=True)
    access_token: str | None = Field(default=None, sa_type=sa.Text)
    refresh_token: str | None = Field(default=None, sa_type=sa.Text)
    access_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    refresh_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int = 0
    needs_reauthorisation: bool = False
    reason: str = Field(default="", sa_type=sa.Text)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    #: When the seller's authorisation of the app ends, as last read (0011).
    authorisation_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OrderBookmarkRow(SQLModel, table=True):
    """Where the next order pull of an account starts (minus the overlap)."""

    __tablename__ = "order_bookmarks"

    account_id: int = Field(foreign_key="channel_accounts.id", primary_key=True)
    position: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    #: When a cycle last checked the account and found nothing to do: such a
    #: cycle records no run, only this mark (with the bookmark it moves anyway).
    in_step_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AccountLeaseRow(SQLModel, table=True):
    """Who may write for an account until when: one writer per account."""

    __tablename__ = "account_leases"

    account_id: int = Field(foreign_key="channel_accounts.id", primary_key=True)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    #: Grows whenever the lease passes to a new holder; writes check it (fencing).
    epoch: int = Field(
        default=1, sa_column_kwargs={"server_default": "1", "nullable": False}
    )


class AccountScheduleRow(SQLModel, table=True):
    """When a scheduled job of an account is next due, shared by every daemon."""

    __tablename__ = "account_schedules"
    __table_args__ = (sa.Index("ix_account_schedules_due", "job", "next_due_at"),)

    account_id: int = Field(foreign_key="channel_accounts.id", primary_key=True)
    #: ``cycle`` or ``reconcile``.
    job: str = Field(max_length=16, primary_key=True)
    next_due_at: datetime = Field(sa_type=UtcDateTime)
    #: Failures in a row; 0 after a success.
    failures: int = Field(
        default=0, sa_column_kwargs={"server_default": "0", "nullable": False}
    )
    backoff_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_outcome: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditEventRow(SQLModel, table=True):
    """One audit event (:class:`core.audit.events.AuditEvent`).

    Writers insert it unsealed (``seq`` and ``hash`` null) in the transaction of the
    change it describes; the sealer later gives it its place in the chain (``seq``,
    in the order transactions became visible) and its ``hash``. ``before`` and
    ``after`` hold canonical JSON text, kept byte for byte.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_at", "at"),
        sa.Index("ix_audit_events_actor_at", "actor", "at"),
        sa.Index("ix_audit_events_subject_at", "subject", "at"),
        sa.Index("ix_audit_events_account_at", "account", "at"),
        sa.Index("ix_audit_events_action_at", "action", "at"),
        sa.Index("ix_audit_events_run_id", "run_id"),
        sa.Index(
            "ix_audit_events_unsealed",
            "id",
            postgresql_where=sa.text("seq IS NULL"),
            sqlite_where=sa.text("seq IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    seq: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    hash: str | None = Field(default=None, max_length=64)
    at: datetime = Field(sa_type=UtcDateTime)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    subject: str = Field(max_length=255)
    account: str | None = Field(default=None, max_length=64)
    run_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    reason: str = Field(default="", sa_type=sa.Text)
    before: str | None = Field(default=None, sa_type=sa.Text)
    after: str | None = Field(default=None, sa_type=sa.Text)


class AuditHeadRow(SQLModel, table=True):
    """The chain's head: the last sealed event's place and hash (one row, id 1).
    The sealer locks it, so one sealer at a time extends the chain; writers never
    touch it."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=sa.BigInteger)
    hash: str = Field(default="", max_length=64)
    sealed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    #: The last stock movement, order and run made before the audit trail began
    #: (set when migration 0013 created it): no event can describe those, so the
    #: record checks do not ask for one.
    movements_through: int = Field(
        default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    orders_through: int = Field(
        default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    runs_through: int = Field(
        default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"}
    )


class UserRow(SQLModel, table=True):
    """A console user: role, scope (see :class:`core.domain.users.Scope`), the
    argon2 hash of the password (never the password), and login throttling."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=128)
    role: str = Field(max_length=16)
    scope: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    language: str = Field(default="id", max_length=8)
    password_hash: str = Field(sa_type=sa.Text)
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class ConsoleSessionRow(SQLModel, table=True):
    """A signed-in browser: the SHA-256 of its cookie's token (the token itself is
    never stored), its CSRF token, and when it ends."""

    __tablename__ = "console_sessions"

    token_hash: str = Field(max_length=64, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)
    last_seen_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class WebhookDeliveryRow(SQLModel, table=True):
    """One verified webhook delivery as it arrived (the raw body, bounded), stored
    before it is acknowledged; unique per marketplace and delivery key, so a
    duplicate is recognised. Processed later: ``processed_at`` and ``outcome``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("marketplace", "delivery_key"),
        sa.Index("ix_webhook_deliveries_pending", "processed_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    marketplace: str = Field(max_length=16)
    #: The delivery's own id where it has one, else the SHA-256 of the raw body.
    delivery_key: str = Field(max_length=128)
    #: The account whose shop the delivery names (``None``: none configured).
    account_key: str | None = Field(default=None, max_length=64)
    shop_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    body: bytes = Field(sa_type=sa.LargeBinary)
    received_at: datetime = Field(sa_type=UtcDateTime)
    verified: bool = True
    processed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome: str | None = Field(default=None, max_length=64)
