"""``ikm-sync orders``: orders pulled from the marketplaces, and those oversold."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core.domain.orders import StoredOrder
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table
from ikm_sync.commands.sync import chosen_accounts


def order_payload(order: StoredOrder) -> dict[str, Any]:
    """An order as plain data."""
    return {
        "account": order.account,
        "external_id": order.external_id,
        "status": order.status.value,
        "raw_status": order.raw_status,
        "total_amount": order.total_amount,
        "stock_state": order.stock_state.value,
        "oversold": order.oversold,
        "placed_at": None if order.placed_at is None else order.placed_at.isoformat(),
        "lines": [
            {
                "line": line.line_no,
                "sku": line.sku,
                "external_sku": line.external_sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for line in order.lines
        ],
    }


def orders(
    ctx: typer.Context,
    oversold: Annotated[
        bool,
        typer.Option(
            "--oversold", help="List the orders that took more than was available."
        ),
    ] = False,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Orders per account and status; with --oversold, the orders an officer must
    settle (stock reserved beyond what was on hand)."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    accounts = chosen_accounts(app_state, account, False)
    with app_state.runtime().uow() as uow:
        if oversold:
            found = [o for a in accounts for o in uow.orders.oversold(a.id)]
        else:
            counts = {a.id: uow.orders.count_by_status(a.id) for a in accounts}
    if oversold:
        if as_json:
            emit_json({"oversold": [order_payload(o) for o in found]})
            return
        console().print(
            table(
                f"Oversold orders ({len(found)})",
                ("account", "order", "status", "stock", "placed", "lines"),
                [
                    (
                        o.account,
                        o.external_id,
                        o.status.value,
                        o.stock_state.value,
                        "" if o.placed_at is None else o.placed_at.isoformat(),
                        "; ".join(
                            f"{line.sku or line.external_sku} x {line.quantity}"
                            for line in o.lines
                        ),
                    )
                    for o in found
                ],
            )
        )
        return
    if as_json:
        emit_json(
            {
                "accounts": {
                    account_id: {s.value: n for s, n in by_status.items()}
                    for account_id, by_status in counts.items()
                }
            }
        )
        return
    console().print(
        table(
            "Orders",
            ("account", "status", "orders"),
            [
                (account_id, status.value, n)
                for account_id, by_status in counts.items()
                for status, n in sorted(by_status.items())
            ],
        )
    )
