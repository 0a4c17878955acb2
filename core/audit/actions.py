"""The audit events' actions and subjects: one vocabulary for writers and readers.

Subjects name what changed with its kind; actions are ``<kind>.<verb>``. The
``after`` (and ``before``) of each action hold the fields listed, never a secret.
Readers (``audit log``, ``audit trace``, ``audit verify``'s record checks) rely on
these shapes; change them only together.
"""

from __future__ import annotations

from core.domain.ids import sku_key

#: A stock movement, one event per movement inserted (an idempotent replay writes
#: none). Subject :func:`sku`; the event's ``at`` is the movement's; ``after``:
#: ``key`` (idempotency key), ``reason``, ``on_hand``, ``reserved`` (the deltas),
#: ``reference``, ``actor`` (the movement's own), ``note``, ``location``. Actor:
#: whoever acts (the acting context).
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
#: An order first stored or changed (status, stock state, oversold, total). Subject
#: :func:`order`; ``before`` (None when stored) and ``after``: the whole state,
#: ``status``, ``stock_state``, ``oversold``, ``settlement`` (its kind or None),
#: ``total`` (``after`` of a stored order also ``lines``: ``line_no``, ``sku``,
#: ``external_sku``, ``quantity``, ``unit_price``). Actor: ``marketplace:<name>``
#: when what it reported (status, total) is new or changed; a change of stock
#: state or oversold flag alone is ikm-sync's own step, by the acting context.
ORDER_STORED = "order.stored"
ORDER_CHANGED = "order.changed"
#: A listing's state or the values last pushed (one event per listing whose
#: values changed). Subject :func:`listing`; ``before`` (None for a new listing)
#: and ``after``: ``state``, ``price``, ``stock``, ``content_hash``,
#: ``external_id``, ``error``. Actor: the acting context. Forgetting the stock
#: last pushed (the marketplace moved it itself; the next push sends it again)
#: is not recorded: nothing was sent or decided, and that next push is.
LISTING_CHANGED = "listing.changed"
#: A run began / ended (also a run closed as abandoned by the sweep). Subject
#: :func:`run`, ``run_id`` the run's; ``after`` of both: the row as stored,
#: ``kind``, ``account``, ``trigger``, ``started_at``, ``window_start``,
#: ``window_end``, ``outcome`` (``running`` when started), ``counts``,
#: ``finished_at``, ``error`` (None when none). Actor: the acting context.
RUN_STARTED = "run.started"
RUN_FINISHED = "run.finished"
#: Items of a run written (one event per batch). Subject :func:`run`; ``after``:
#: ``items``, a list of ``subject``, ``operation``, ``ok``, ``at``,
#: ``error_code``, ``error_message``, ``sent`` (as stored: cut to their columns).
RUN_ITEMS = "run.items"
#: An account created or changed by ``accounts apply``. Subject :func:`account`;
#: ``before``/``after``: the changed fields of ``marketplace``, ``shop_id``,
#: ``producers``, ``policy`` (``default``, ``overrides``, ``excluded``, as
#: stored), ``credentials_ref`` (the credential set's name, never its values),
#: ``enabled`` (every field, ``before`` None, when created); ``after`` also
#: ``producers_bound`` and ``producers_unbound`` when the producers changed.
ACCOUNT_APPLIED = "account.applied"
#: An account's allocation policy set in the console (``source`` ``console``), or
#: a console edit ended by ``accounts apply`` because the settings' policy changed
#: (``source`` ``settings``). Subject :func:`account`; ``before``/``after``:
#: ``policy`` (as stored) and ``set_in_console`` (whether the console's edit holds).
ACCOUNT_ALLOCATION = "account.allocation"
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
#: A repair by ``reconcile --repair``. Subject :func:`listing`; ``after``:
#: ``repair`` ``store_values`` with ``findings`` (the kinds it answers; the new
#: values are in the same transaction's ``listing.changed``), or
#: ``deactivate_duplicate`` with ``external_id`` and ``ok``.
LISTING_REPAIRED = "listing.repaired"
#: An oversold order settled by an officer. Subject :func:`order`; ``before`` and
#: ``after`` as for ``order.changed`` (``settlement`` None → its kind); actor the
#: officer, ``reason`` the note.
ORDER_SETTLED = "order.settled"
#: An export of the trail taken from the console. Subject :func:`export`;
#: ``after``: ``format``, ``filters`` (what was asked, as given), ``rows``
#: (written) and ``complete`` (False when the download stopped part way). Actor:
#: the user who took it.
AUDIT_EXPORTED = "audit.exported"


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


def export(what: str) -> str:
    """The subject of an export: ``export:<events|runs>``."""
    return f"export:{what}"
