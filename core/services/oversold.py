"""Settling oversold orders: an officer marks one handled, or cancels it on its
marketplace.

An oversold order stays flagged for good (the flag is history); what changes is
whether an officer has settled it. A settlement records how (``handled`` or
``cancelled``), who, when and a note, once: an order already settled, unknown or not
oversold is refused and nothing changes.

A cancellation goes to the marketplace through the connector, which stays the source
of truth: ikm-sync never sets the order's status itself. The order is read back with
``fetch_order`` and stored through the normal order ingest (recorded as an orders
run), so the reservation is released by the same idempotency keys as a pull's, exactly
once, whichever of the two sees the cancellation first. A marketplace that documents
no cancellation is refused before any call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason, Settlement, SettlementKind, StoredOrder
from core.domain.remote import RemoteOrder
from core.domain.sync import OrderStatus, RunOutcome, SyncKind
from core.errors import ConnectorError, DomainError, OutcomeUnknownError, RejectedError
from core.ports import Clock, MarketplaceConnector
from core.services.orders import OrderIngester
from core.services.runs import RunRecorder, UnitOfWorkFactory, error_text

log = structlog.get_logger(__name__)

#: Longest note and actor name the store keeps.
NOTE_MAX = 500
ACTOR_MAX = 128
#: Statuses in which a seller may still cancel an order (before it ships).
CANCELLABLE = frozenset(
    {OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.READY_TO_SHIP}
)


class SettlementRefusedError(DomainError):
    """An oversold order cannot be settled as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What a cancellation on the marketplace led to.

    ``order`` is the order as stored after it was read back (or as before, when the
    read-back failed: ``read_back_error`` then says why, and the next order pull
    brings the new status); ``run_id`` is the orders run that stored it.
    """

    order: StoredOrder
    run_id: int
    read_back_error: str = ""


#: Control characters (C0, DEL, C1); a note may still hold line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _text(
    value: str, field: str, limit: int, *, required: bool, lines: bool = False
) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise SettlementRefusedError(f"{field}: expected a non-empty text")
    control = (_CONTROL_MULTILINE if lines else _CONTROL).search(cleaned)
    if control is not None:
        raise SettlementRefusedError(
            f"{field}: control character \\x{ord(control.group()):02x} at position "
            f"{control.start() + 1}; expected "
            + (
                "text without control characters (line breaks and tabs are fine)"
                if lines
                else "a single line of text without control characters"
            )
        )
    if len(cleaned) > limit:
        raise SettlementRefusedError(
            f"{field}: expected at most {limit} characters, got {len(cleaned)}"
        )
    return cleaned


def open_oversold(
    uow_factory: UnitOfWorkFactory, account: AccountId, external_id: str
) -> StoredOrder:
    """The stored order ``external_id`` of ``account`` if it is oversold and not yet
    settled.

    Raises:
        SettlementRefusedError: unknown order, not oversold, or already settled.
    """
    with uow_factory() as uow:
        order = uow.orders.get_many(account, [external_id]).get(external_id)
    if order is None:
        raise SettlementRefusedError(
            f"order {external_id!r}: no such order of account {account!r} in the "
            "store (see `ikm-sync orders --oversold`)"
        )
    if not order.oversold:
        raise SettlementRefusedError(
            f"order {external_id!r} of account {account!r} is not oversold; only "
            "oversold orders are settled"
        )
    if order.settlement is not None:
        done = order.settlement
        raise SettlementRefusedError(
            f"order {external_id!r} of account {account!r} was already settled "
            f"({done.kind.value}) by {done.actor} at {done.at.isoformat()}"
        )
    return order


def _record(
    uow_factory: UnitOfWorkFactory, order: StoredOrder, settlement: Settlement
) -> None:
    with uow_factory() as uow:
        if not uow.orders.settle(order.account, order.external_id, settlement):
            raise SettlementRefusedError(
                f"order {order.external_id!r} of account {order.account!r} was "
                "settled by someone else meanwhile"
            )
        uow.commit()
    log.info(
        "orders.oversold_settled",
        account=order.account,
        order=order.external_id,
        how=settlement.kind.value,
        actor=settlement.actor,
    )


def settle_oversold(
    uow_factory: UnitOfWorkFactory,
    account: AccountId,
    external_id: str,
    *,
    note: str,
    actor: str,
    clock: Clock,
) -> StoredOrder:
    """Mark an oversold order handled by ``actor``, with ``note``; returns it as
    stored now.

    Raises:
        SettlementRefusedError: empty or over-long note or actor, or one holding a
            control character (a note may hold line breaks and tabs); unknown order, not
            oversold or already settled (nothing changed).
    """
    note = _text(note, "note", NOTE_MAX, required=True, lines=True)
    actor = _text(actor, "actor", ACTOR_MAX, required=True)
    order = open_oversold(uow_factory, account, external_id)
    settlement = Settlement(SettlementKind.HANDLED, actor, clock.now(), note)
    _record(uow_factory, order, settlement)
    with uow_factory() as uow:
        return uow.orders.get_many(account, [external_id])[external_id]


def cancel_oversold(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    external_id: str,
    *,
    reason: CancelReason,
    actor: str,
    clock: Clock,
    trigger: str,
    note: str = "",
) -> CancelOutcome:
    """Cancel an oversold order on its marketplace, record the settlement, then
    read the order back through the order ingest.

    Raises:
        SettlementRefusedError: the marketplace documents no cancellation (checked
            first), or the order is unknown, not oversold, already settled, shipped
            or ended (nothing changed, no call made).
        ConnectorError: the marketplace refused or failed the cancellation and the
            order read back is not cancelled (nothing recorded). An
            ``OutcomeUnknownError`` then says what the marketplace shows, so the
            officer knows whether sending the cancellation again is safe.

    A refused or unanswered cancellation is checked by reading the order: when the
    marketplace shows it cancelled (the lost answer's cancellation was applied, or the
    buyer cancelled it meanwhile) the case is settled as cancelled and the order
    stored through the ingest, as after an answered cancellation.
    """
    actor = _text(actor, "actor", ACTOR_MAX, required=True)
    note = _text(note, "note", NOTE_MAX, required=False, lines=True)
    marketplace = account.marketplace.value
    if Capability.CANCEL_ORDERS not in connector.capabilities:
        raise SettlementRefusedError(
            f"{marketplace} documents no cancellation of an order by the seller, so "
            f"order {external_id!r} cannot be cancelled from ikm-sync; cancel it in "
            "the seller centre if possible, then record it with `ikm-sync orders "
            "settle`"
        )
    order = open_oversold(uow_factory, account.id, external_id)
    if order.status not in CANCELLABLE:
        raise SettlementRefusedError(
            f"order {external_id!r} is {order.status.value}; only an order not yet "
            "shipped can be cancelled (settle it with `ikm-sync orders settle`)"
        )
    shown: RemoteOrder | None = None
    try:
        connector.cancel_order(external_id, reason)
    except (RejectedError, OutcomeUnknownError) as exc:
        shown = _cancelled_meanwhile(connector, external_id, exc)
        answer = "refused" if isinstance(exc, RejectedError) else "not answered"
        note = note or (
            f"already cancelled on {marketplace} (the cancellation, {reason.value}, "
            f"was {answer})"
        )
    settlement = Settlement(
        SettlementKind.CANCELLED,
        actor,
        clock.now(),
        note or f"cancelled on {marketplace}: {reason.value}",
    )
    _record(uow_factory, order, settlement)
    return _read_back(uow_factory, connector, account, order, clock, trigger, shown)


def _cancelled_meanwhile(
    connector: MarketplaceConnector,
    external_id: str,
    error: RejectedError | OutcomeUnknownError,
) -> RemoteOrder:
    """The order as the marketplace shows it after a refused or unanswered
    cancellation, when that is cancelled; otherwise ``error`` is raised again
    (an unanswered one saying what the marketplace shows)."""
    try:
        shown = connector.fetch_order(external_id)
    except ConnectorError as read_error:
        log.warning(
            "orders.cancel_check_failed", order=external_id, reason=str(read_error)
        )
        raise error from None
    if shown.status is OrderStatus.CANCELLED:
        log.info("orders.cancel_found_applied", order=external_id, after=str(error))
        return shown
    if isinstance(error, OutcomeUnknownError):
        raise OutcomeUnknownError(
            f"{error.reason}; the order read back shows it {shown.status.value} "
            f"({shown.raw_status}), not cancelled: the cancellation may be sent again",
            marketplace=error.marketplace,
            account=error.account,
            operation=error.operation,
            request_id=error.request_id,
        ) from error
    raise error


def _read_back(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    order: StoredOrder,
    clock: Clock,
    trigger: str,
    shown: RemoteOrder | None = None,
) -> CancelOutcome:
    """Fetch the order (unless ``shown`` was just read) and store it as a pull
    would, in an orders run of its own."""
    recorder = RunRecorder(uow_factory, clock, SyncKind.ORDERS, account.id, trigger)
    run_id = recorder.start()
    ingester = OrderIngester(uow_factory, account, clock, recorder)
    error = ""
    try:
        ingester.ingest([shown or connector.fetch_order(order.external_id)])
    except ConnectorError as exc:
        error = error_text(exc)
        log.warning(
            "orders.cancel_read_back_failed", order=order.external_id, reason=error
        )
        recorder.finish(RunOutcome.FAILED, error)
    except Exception as exc:
        recorder.finish(RunOutcome.FAILED, error_text(exc))
        raise
    else:
        recorder.finish()
    with uow_factory() as uow:
        stored = uow.orders.get_many(account.id, [order.external_id])
    return CancelOutcome(stored.get(order.external_id, order), run_id, error)
