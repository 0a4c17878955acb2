"""``ikm-sync status``: the catalogue at a glance."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core.services.status import CatalogueStatus, catalogue_status
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table


def status_payload(report: CatalogueStatus) -> dict[str, Any]:
    """The status as plain data (the ``--json`` shape)."""
    stock = report.stock
    return {
        "producers": {k.value: v for k, v in report.producers.items()},
        "products": {k.value: v for k, v in report.products.items()},
        "stock": {
            "skus_with_stock": stock.skus_with_stock,
            "skus_out_of_stock": stock.skus_out_of_stock,
            "skus_oversold": stock.skus_oversold,
            "on_hand": stock.on_hand,
            "reserved": stock.reserved,
            "available": stock.available,
        },
        "accounts": [
            {
                "id": item.account.id,
                "marketplace": item.account.marketplace.value,
                "shop_id": item.account.shop_id,
                "producers": list(item.account.producer_codes),
                "enabled": item.account.enabled,
                "listings": {k.value: v for k, v in item.listings.items()},
            }
            for item in report.accounts
        ],
    }


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show producers, products, stock totals and channel accounts."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    runtime = app_state.runtime()
    payload = status_payload(catalogue_status(runtime.uow()))
    if as_json:
        emit_json(payload)
        return
    out = console()
    producers, products, stock = (
        payload["producers"],
        payload["products"],
        payload["stock"],
    )
    out.print(
        table(
            "Catalogue",
            ("", "count"),
            [
                ("producers: IKM units", producers["ikm"]),
                ("producers: WBP workshops", producers["wbp"]),
                ("products: active", products["active"]),
                ("products: draft", products["draft"]),
                ("products: archived", products["archived"]),
            ],
        )
    )
    out.print(
        table(
            "Stock",
            ("", "units"),
            [
                ("on hand", stock["on_hand"]),
                ("reserved by orders", stock["reserved"]),
                ("available", stock["available"]),
                ("SKUs with stock", stock["skus_with_stock"]),
                ("SKUs out of stock", stock["skus_out_of_stock"]),
                ("SKUs oversold", stock["skus_oversold"]),
            ],
        )
    )
    out.print(
        table(
            "Channel accounts",
            ("account", "marketplace", "shop", "producers", "enabled", "listings"),
            [
                (
                    a["id"],
                    a["marketplace"],
                    a["shop_id"],
                    ", ".join(a["producers"]),
                    "yes" if a["enabled"] else "no",
                    ", ".join(f"{k} {v}" for k, v in a["listings"].items())
                    or "none yet",
                )
                for a in payload["accounts"]
            ],
        )
    )
    if not payload["accounts"]:
        out.print("no accounts in the store yet: run `ikm-sync accounts apply`")
