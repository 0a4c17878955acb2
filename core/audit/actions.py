"""The audit events' actions and subjects: one vocabulary for writers and readers.

Subjects name what changed with its kind; actions are ``<kind>.<verb>``. The
``after`` (and ``before``) of each action hold the fields listed, never a secret.
Readers (``audit log``, ``audit trace``, ``audit verify``'s record checks) rely on
these shapes; change them only together.
"""

from __future__ import annotations

from core.domain.ids import sku_key

#: A stock movement. Subject :func:`sku`; ``after``: ``key`` (idempotency key),
#: ``reason``, ``on_hand``, ``reserved`` (the deltas), ``reference``, ``actor``,
#: ``note``, ``location``.
STOCK_MOVED = "stock.moved"
#: A product created or changed (import, status). Subject :func:`sku`; ``before``
#: and ``after``: the changed fields only (``before`` None when created).
PRODUCT_CREATED = "product.created"
PRODUCT_UPDATED = "product.updated"
#: A producer created or changed. Subject :func:`producer`; as for products.
PRODUCER_CREATED = "producer.created"
PRODUCER_UPDATED = "producer.updated"
#: An order first stored or changed (status, stock state, settlement). Subject
#: :func:`order`; ``before``/``after``: ``status``, ``stock_state``, ``oversold``,
#: ``settlement`` (``after`` of a stored order also ``total``, ``lines``).
ORDER_STORED = "order.stored"
ORDER_CHANGED = "order.changed"
#: A listing's state or the values last pushed. Subject :func:`listing`;
#: ``before``/``after``: ``state``, ``price``, ``stock``, ``content_hash``,
#: ``external_id``, ``error``.
LISTING_CHANGED = "listing.changed"
#: A run began / ended. Subject :func:`run`; ``after`` of ``run.started``:
#: ``kind``, ``account``, ``trigger``, ``started_at``, ``window_start``,
#: ``window_end``; of ``run.finished``: also ``outcome``, ``counts``,
#: ``finished_at``, ``error``.
RUN_STARTED = "run.started"
RUN_FINISHED = "run.finished"
#: Items of a run written. Subject :func:`run`; ``after``: ``items``, a list of
#: ``subject``, ``operation``, ``ok``, ``at``, ``error_code``, ``error_message``,
#: ``sent``.
RUN_ITEMS = "run.items"
#: An account created or changed by ``accounts apply`` (allocation policy,
#: producers, enabled). Subject :func:`account`.
ACCOUNT_APPLIED = "account.applied"
#: A seller's authorisation saved / the account marked for re-authorisation /
#: the authorisation's end read. Subject :func:`account`; never a token.
ACCOUNT_AUTHORISED = "account.authorised"
ACCOUNT_REAUTHORISATION = "account.reauthorisation_needed"
ACCOUNT_AUTHORISATION_EXPIRY = "account.authorisation_expiry"
#: A repair by ``reconcile --repair`` (a duplicate listing deactivated …).
#: Subject :func:`listing`.
LISTING_REPAIRED = "listing.repaired"
#: An oversold order settled by an officer. Subject :func:`order`.
ORDER_SETTLED = "order.settled"


def sku(value: str) -> str:
    """The subject of a SKU's product and stock: ``sku:<SKU as keyed>``."""
    return f"sku:{sku_key(value)}"


def producer(code: str) -> str:
    """The subject of a producer: ``producer:<code>``."""
    return f"producer:{code}"


def order(marketplace: str, external_id: str) -> str:
    """The subject of an order: ``order:<marketplace>:<its id there>``."""
    return f"order:{marketplace}:{external_id}"


def listing(account: str, sku_: str) -> str:
    """The subject of a listing: ``listing:<account>:<SKU as keyed>``."""
    return f"listing:{account}:{sku_key(sku_)}"


def run(run_id: int) -> str:
    """The subject of a run: ``run:<id>``."""
    return f"run:{run_id}"


def account(key: str) -> str:
    """The subject of a channel account: ``account:<key>``."""
    return f"account:{key}"
