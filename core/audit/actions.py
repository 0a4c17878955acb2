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
#: and ``after``: the changed fields only (``before`` None when created, ``after``
#: then every field): ``sku``, ``producer_code``, ``name``, ``description``,
#: ``category``, ``price``, ``weight_grams``, ``dimensions`` ([l, w, h] cm or
#: None), ``image_urls``, ``condition``, ``status``, ``provenance`` (see
#: :mod:`core.audit.changes`).
PRODUCT_CREATED = "product.created"
PRODUCT_UPDATED = "product.updated"
#: A producer created or changed. Subject :func:`producer`; as for products, of
#: ``code``, ``name``, ``kind``, ``province``, ``regency``, ``sentra``,
#: ``institution``, ``business_id``.
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
#: An account created or changed by ``accounts apply``. Subject :func:`account`;
#: ``before``/``after``: the changed fields of ``marketplace``, ``shop_id``,
#: ``producers``, ``policy`` (``default``, ``overrides``, ``excluded``, as
#: stored), ``credentials_ref`` (the credential set's name, never its values),
#: ``enabled`` (every field, ``before`` None, when created); ``after`` also
#: ``producers_bound`` and ``producers_unbound`` when the producers changed.
ACCOUNT_APPLIED = "account.applied"
#: A seller's authorisation saved (an authorisation, a token refresh, a mark
#: cleared) / the account marked for re-authorisation (its reason the event's
#: ``reason``). Subject :func:`account`; ``before``/``after``: ``version``,
#: ``access_expires_at``, ``refresh_expires_at``, ``needs_reauthorisation``;
#: never a token.
ACCOUNT_AUTHORISED = "account.authorised"
ACCOUNT_REAUTHORISATION = "account.reauthorisation_needed"
#: The authorisation's end read from the marketplace, when it differs from the
#: one known. Subject :func:`account`; ``before``/``after``:
#: ``authorisation_expires_at``.
ACCOUNT_AUTHORISATION_EXPIRY = "account.authorisation_expiry"
#: An account's stored tokens encrypted again with the first token key (``db
#: reencrypt-tokens``). Subject :func:`account`; ``after``: ``version`` (the
#: tokens are unchanged); never a token or a key.
ACCOUNT_TOKENS_REENCRYPTED = "account.tokens_reencrypted"
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
