"""What a push would send to an account: its plan within what its marketplace can
do, and the plan as plain data (``ikm-sync sync plan --json`` and the console's
sync page show the same)."""

from __future__ import annotations

from typing import Any

from core.domain.accounts import ChannelAccount
from core.reconcile import AccountPlan
from core.services.publish import plan_push
from core.services.runs import UnitOfWorkFactory


def plan_payload(plan: AccountPlan) -> dict[str, Any]:
    """One account's plan as plain data (the ``--json`` shape)."""
    return {
        "account": plan.account.id,
        "marketplace": plan.account.marketplace.value,
        "counts": plan.counts(),
        "resolve": list(plan.resolve),
        "create": [
            {"sku": c.draft.sku, "price": c.draft.price, "stock": c.draft.stock}
            for c in plan.creates
        ],
        "update": [
            {"sku": c.draft.sku, "external_id": c.external_id, "kind": c.kind.value}
            for c in plan.updates
        ],
        "deactivate": [
            {"sku": c.draft.sku, "external_id": c.external_id}
            for c in plan.deactivations
        ],
        "price": [
            {"sku": u.sku, "external_id": u.external_id, "price": u.price}
            for u in plan.prices
        ],
        "stock": [
            {"sku": u.sku, "external_id": u.external_id, "quantity": u.quantity}
            for u in plan.stock
        ],
        "unsupported": [
            {"sku": sku, "change": kind.value} for sku, kind in plan.unsupported
        ],
    }


def account_plan(factory: UnitOfWorkFactory, account: ChannelAccount) -> AccountPlan:
    """``account``'s plan, within what its marketplace can do (its descriptor)."""
    import connectors

    capabilities = connectors.descriptor(account.marketplace.value).capabilities
    return plan_push(factory, account, capabilities=capabilities)
