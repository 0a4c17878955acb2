"""The ``before`` → ``after`` of catalogue and account events, field by field.

Pure functions from domain values to what an event holds (see
:mod:`core.audit.actions` for the shapes): a created record's ``after`` holds
every field and its ``before`` is ``None``; a changed record's ``before`` and
``after`` hold the changed fields only. Nothing here reads a secret: an account
names its credential set (``credentials_ref``), never its values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.audit import actions
from core.audit.events import AuditEvent
from core.domain.accounts import AllocationPolicy, AllocationRule, ChannelAccount
from core.domain.catalogue import Producer, Product

Fields = dict[str, Any]


def product_fields(product: Product, names: Iterable[str] | None = None) -> Fields:
    """``product``'s fields (only ``names`` when given) as an event holds them."""
    dims = product.dimensions
    every: Fields = {
        "sku": product.sku,
        "producer_code": product.producer_code,
        "name": product.name,
        "description": product.description,
        "category": product.category,
        "price": product.price,
        "weight_grams": product.weight_grams,
        "dimensions": None
        if dims is None
        else [dims.length_cm, dims.width_cm, dims.height_cm],
        "image_urls": list(product.image_urls),
        "condition": product.condition.value,
        "status": product.status.value,
        "provenance": product.provenance,
    }
    return every if names is None else {n: every[n] for n in names}


def producer_fields(producer: Producer, names: Iterable[str] | None = None) -> Fields:
    """``producer``'s fields (only ``names`` when given) as an event holds them."""
    every: Fields = {
        "code": producer.code,
        "name": producer.name,
        "kind": producer.kind.value,
        "province": producer.province,
        "regency": producer.regency,
        "sentra": producer.sentra,
        "institution": producer.institution,
        "business_id": producer.business_id,
    }
    return every if names is None else {n: every[n] for n in names}


def product_event(
    product: Product,
    before: Product | None,
    changed: Sequence[str],
    *,
    actor: str | None = None,
) -> AuditEvent:
    """``product.created`` (``before`` None) or ``product.updated`` with the
    ``changed`` fields before → after (every field after when ``before`` is not
    known)."""
    subject = actions.sku(product.sku)
    if before is None:
        return AuditEvent(
            actions.PRODUCT_CREATED if not changed else actions.PRODUCT_UPDATED,
            subject,
            after=product_fields(product),
            actor=actor,
        )
    return AuditEvent(
        actions.PRODUCT_UPDATED,
        subject,
        before=product_fields(before, changed),
        after=product_fields(product, changed),
        actor=actor,
    )


def producer_event(
    producer: Producer,
    before: Producer | None,
    changed: Sequence[str],
    *,
    actor: str | None = None,
) -> AuditEvent:
    """``producer.created`` (``before`` None) or ``producer.updated`` with the
    ``changed`` fields before → after."""
    subject = actions.producer(producer.code)
    if before is None:
        return AuditEvent(
            actions.PRODUCER_CREATED,
            subject,
            after=producer_fields(producer),
            actor=actor,
        )
    return AuditEvent(
        actions.PRODUCER_UPDATED,
        subject,
        before=producer_fields(before, changed),
        after=producer_fields(producer, changed),
        actor=actor,
    )


def _rule(rule: AllocationRule) -> Fields:
    return {
        "share_percent": rule.share_percent,
        "safety_buffer": rule.safety_buffer,
        "cap": rule.cap,
        "min_to_list": rule.min_to_list,
    }


def policy_fields(policy: AllocationPolicy) -> Fields:
    """An allocation policy as an event holds it (the shape the store keeps)."""
    return {
        "default": _rule(policy.default),
        "overrides": {k: _rule(r) for k, r in sorted(policy.overrides.items())},
        "excluded": sorted(policy.excluded),
    }


def account_fields(account: ChannelAccount) -> Fields:
    """An account as ``accounts apply`` stores it: marketplace, shop, producers,
    allocation policy, credential set's name, whether it is enabled and, for a shop
    handed over between two accounts, the handover."""
    fields: Fields = {
        "marketplace": account.marketplace.value,
        "shop_id": account.shop_id,
        "producers": list(account.producer_codes),
        "policy": policy_fields(account.policy),
        "credentials_ref": account.credentials_ref,
        "enabled": account.enabled,
    }
    if account.handover is not None:
        fields["handover"] = {
            "predecessor": account.handover.predecessor,
            "successor": account.handover.successor,
            "at": account.handover.at.isoformat(),
        }
    return fields


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The names whose values differ (present on one side only included), in
    ``after``'s order, then ``before``'s."""
    names = [*after, *(n for n in before if n not in after)]
    return [name for name in names if before.get(name) != after.get(name)]


def account_event(
    account: ChannelAccount, before: ChannelAccount | None
) -> AuditEvent | None:
    """``account.applied``: every field when created; else the changed fields
    before → after, with ``producers_bound`` and ``producers_unbound``; ``None``
    when nothing changed."""
    after = account_fields(account)
    subject = actions.account(account.id)
    if before is None:
        return AuditEvent(
            actions.ACCOUNT_APPLIED, subject, after=after, account=account.id
        )
    old = account_fields(before)
    changed = changed_fields(old, after)
    if not changed:
        return None
    new_fields = {n: after.get(n) for n in changed}
    if "producers" in changed:
        new_fields["producers_bound"] = sorted(
            set(account.producer_codes) - set(before.producer_codes)
        )
        new_fields["producers_unbound"] = sorted(
            set(before.producer_codes) - set(account.producer_codes)
        )
    return AuditEvent(
        actions.ACCOUNT_APPLIED,
        subject,
        before={n: old.get(n) for n in changed},
        after=new_fields,
        account=account.id,
    )


def allocation_event(
    account: ChannelAccount, before: ChannelAccount, *, source: str
) -> AuditEvent | None:
    """``account.allocation``: the policy before → after and whether a console edit
    holds it, set from ``source`` (``console`` or ``settings``); ``None`` when
    neither changed."""
    old: Fields = {
        "policy": policy_fields(before.policy),
        "set_in_console": before.policy_edit is not None,
    }
    new: Fields = {
        "policy": policy_fields(account.policy),
        "set_in_console": account.policy_edit is not None,
        "source": source,
    }
    if (
        old["policy"] == new["policy"]
        and old["set_in_console"] == new["set_in_console"]
    ):
        return None
    return AuditEvent(
        actions.ACCOUNT_ALLOCATION,
        actions.account(account.id),
        before=old,
        after=new,
        account=account.id,
    )
