"""``ikm-sync orders``: orders pulled from the marketplaces, those oversold, and
settling them (marked handled, or cancelled on the marketplace)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table

if TYPE_CHECKING:
    from core.domain.orders import StoredOrder


class Reason(StrEnum):
    """Why the seller cancels (``core.domain.orders.CancelReason``)."""

    OUT_OF_STOCK = "out_of_stock"
    BUYER_REQUEST = "buyer_request"


app = typer.Typer(
    help="Orders per account; oversold orders and settling them.",
    invoke_without_command=True,
)

AccountArgument = Annotated[str, typer.Argument(help="The account's id.")]
OrderArgument = Annotated[
    str, typer.Argument(help="The order's id on the marketplace.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


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
        "settlement": None
        if order.settlement is None
        else {
            "how": order.settlement.kind.value,
            "by": order.settlement.actor,
            "at": order.settlement.at.isoformat(),
            "note": order.settlement.note,
        },
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


@app.callback()
def orders(
    ctx: typer.Context,
    oversold: Annotated[
        bool,
        typer.Option(
            "--oversold",
            help="List the oversold orders no officer has settled yet.",
        ),
    ] = False,
    every: Annotated[
        bool,
        typer.Option(
            "--all", help="With --oversold: settled ones too, with who, when, how."
        ),
    ] = False,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Orders per account and status; with --oversold, the orders an officer must
    settle (stock reserved beyond what was on hand): `orders settle` or
    `orders cancel`."""
    if ctx.invoked_subcommand is not None:
        return
    from ikm_sync.commands.sync import chosen_accounts

    app_state = state(ctx)
    app_state.json_errors = as_json
    if every and not oversold:
        raise typer.BadParameter("--all lists settled oversold orders: add --oversold")
    accounts = chosen_accounts(app_state, account, False)
    with app_state.runtime().uow() as uow:
        if oversold:
            found = [
                o
                for a in accounts
                for o in uow.orders.oversold(a.id, open_only=not every)
            ]
        else:
            counts = {a.id: uow.orders.count_by_status(a.id) for a in accounts}
    if oversold:
        if as_json:
            emit_json({"oversold": [order_payload(o) for o in found]})
            return
        columns = ["account", "order", "status", "stock", "placed", "lines"]
        if every:
            columns += ["settled", "by", "at", "note"]
        console().print(
            table(
                f"Oversold orders ({len(found)})"
                if every
                else f"Oversold orders to settle ({len(found)})",
                columns,
                [_oversold_row(o, settled=every) for o in found],
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


def _oversold_row(order: StoredOrder, *, settled: bool) -> list[str]:
    row = [
        order.account,
        order.external_id,
        order.status.value,
        order.stock_state.value,
        "" if order.placed_at is None else order.placed_at.isoformat(),
        "; ".join(
            f"{line.sku or line.external_sku} x {line.quantity}" for line in order.lines
        ),
    ]
    if settled:
        done = order.settlement
        row += (
            ["open", "", "", ""]
            if done is None
            else [done.kind.value, done.actor, done.at.isoformat(), done.note]
        )
    return row


@app.command("settle")
def settle(
    ctx: typer.Context,
    account: AccountArgument,
    order_id: OrderArgument,
    note: Annotated[
        str,
        typer.Option("--note", help="What was done (e.g. stock found, buyer told)."),
    ],
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark an oversold order handled: it leaves `orders --oversold`. Refused (exit 1,
    nothing changed) for an unknown order, one not oversold or already settled."""
    from core.services.oversold import settle_oversold
    from ikm_sync.commands.sync import chosen_accounts

    app_state = state(ctx)
    app_state.json_errors = as_json
    who = who_acts(app_state, actor)
    (chosen,) = chosen_accounts(app_state, account, False, named="account")
    runtime = app_state.runtime()
    order = settle_oversold(
        runtime.uow_factory(),
        chosen.id,
        order_id,
        note=note,
        actor=who.name,
        clock=runtime.clock,
    )
    if as_json:
        emit_json({"order": order_payload(order)})
        return
    console().print(
        f"{chosen.id} order {order.external_id}: settled as handled by "
        f"{order.settlement.actor if order.settlement else ''}",
        markup=False,
    )


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    account: AccountArgument,
    order_id: OrderArgument,
    reason: Annotated[
        Reason, typer.Option("--reason", help="Why the order is cancelled.")
    ] = Reason.OUT_OF_STOCK,
    note: Annotated[str, typer.Option("--note", help="A note kept with it.")] = "",
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel an oversold order on its marketplace (Shopee, Tokopedia), then read it
    back: its reservation is released once the marketplace shows it cancelled.
    Refused (exit 1, nothing changed) where the marketplace documents no
    cancellation, for a shipped order, an unknown order, one not oversold or
    already settled, and while another process works on the account (it holds the
    account's lease)."""
    from core.domain.orders import CancelReason
    from ikm_sync.bootstrap import Connections
    from ikm_sync.commands.sync import chosen_accounts, job_runner
    from scheduler.jobs import cancel_order

    app_state = state(ctx)
    app_state.json_errors = as_json
    who = who_acts(app_state, actor)
    (chosen,) = chosen_accounts(app_state, account, False, named="account")
    runtime = app_state.runtime()
    connections = Connections(app_state.settings(), runtime)
    try:
        outcome = cancel_order(
            job_runner(app_state, connections),
            chosen,
            order_id,
            reason=CancelReason(reason.value),
            actor=who.name,
            trigger=who.trigger,
            note=note,
        )
    finally:
        connections.close()
    if as_json:
        emit_json(
            {
                "order": order_payload(outcome.order),
                "run_id": outcome.run_id,
                "read_back_error": outcome.read_back_error or None,
            }
        )
        return
    order = outcome.order
    console().print(
        f"{chosen.id} order {order.external_id}: cancellation sent; the marketplace "
        f"shows it {order.status.value} ({order.raw_status}), stock "
        f"{order.stock_state.value}",
        markup=False,
    )
    if outcome.read_back_error:
        console(stderr=True).print(
            "could not read the order back: "
            f"{outcome.read_back_error}; the next order pull brings its status",
            markup=False,
        )
