"""``ikm-sync stock``: manual movements and a SKU's balances."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.text import Text

from core.domain.stock import DEFAULT_LOCATION, MovementReason
from core.services.stock import adjust_stock, show_stock
from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table


class ManualKind(StrEnum):
    """The ledger reasons an officer may record by hand (see ``MANUAL_REASONS``)."""

    ADJUSTMENT = MovementReason.ADJUSTMENT.value
    RECEIPT = MovementReason.RECEIPT.value
    RETURN = MovementReason.RETURN.value


app = typer.Typer(
    help="Move stock by hand and read a SKU's stock.", no_args_is_help=True
)


@app.command("adjust", context_settings={"ignore_unknown_options": True})
def adjust(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The product's SKU.")],
    delta: Annotated[
        int, typer.Argument(help="Units to add (e.g. 5) or remove (e.g. -3).")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the stock changes.")],
    actor: ActorOption = None,
    kind: Annotated[
        ManualKind,
        typer.Option(
            help="Ledger reason: adjustment (count correction), receipt or return."
        ),
    ] = ManualKind.ADJUSTMENT,
    key: Annotated[
        str | None,
        typer.Option(
            help="Idempotency key: repeating the command with it moves nothing."
        ),
    ] = None,
    reference: Annotated[str, typer.Option(help="Document or ticket number.")] = "",
    location: Annotated[str, typer.Option(help="Stock location.")] = DEFAULT_LOCATION,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Record one stock movement; refused if on-hand stock would fall below zero."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    who = who_acts(app_state, actor)
    runtime = app_state.runtime()
    recorded = adjust_stock(
        runtime.uow(),
        sku=sku,
        delta=delta,
        note=reason,
        actor=who.name,
        clock=runtime.clock,
        reason=MovementReason(kind.value),
        idempotency_key=key,
        reference=reference,
        location=location,
    )
    level, movement = recorded.level, recorded.movement
    if as_json:
        emit_json(
            {
                "created": recorded.created,
                "movement_id": movement.id,
                "sku": movement.sku,
                "on_hand_delta": movement.on_hand_delta,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
                "available": level.available,
            }
        )
        return
    verb = (
        "recorded" if recorded.created else "already recorded (same key), nothing moved"
    )
    console().print(
        f"{movement.sku}: {movement.on_hand_delta:+d} {verb}; on hand {level.on_hand}, "
        f"reserved {level.reserved}, available {level.available}"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The product's SKU.")],
    limit: Annotated[
        int, typer.Option(min=1, max=1000, help="Movements to list.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show on-hand, reserved and available stock and the latest movements."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    view = show_stock(app_state.runtime().uow(), sku, limit=limit)
    level = view.level
    if as_json:
        emit_json(
            {
                "sku": view.product.sku,
                "name": view.product.name,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
                "available": level.available,
                "movements": [
                    {
                        "id": m.id,
                        "at": m.at.isoformat(),
                        "reason": m.reason.value,
                        "on_hand_delta": m.on_hand_delta,
                        "reserved_delta": m.reserved_delta,
                        "actor": m.actor,
                        "reference": m.reference,
                        "note": m.note,
                        "idempotency_key": m.idempotency_key,
                    }
                    for m in view.movements
                ],
            }
        )
        return
    out = console()
    out.print(Text.assemble((view.product.sku, "bold"), " ", view.product.name))
    out.print(
        f"on hand {level.on_hand}   reserved {level.reserved}   "
        f"available {level.available}"
    )
    out.print(
        table(
            f"Latest {len(view.movements)} movement(s), newest first",
            (
                "#",
                "when (UTC)",
                "reason",
                "on hand",
                "reserved",
                "actor",
                "reference",
                "note",
            ),
            [
                (
                    m.id,
                    m.at.strftime("%Y-%m-%d %H:%M:%S"),
                    m.reason.value,
                    f"{m.on_hand_delta:+d}",
                    f"{m.reserved_delta:+d}" if m.reserved_delta else "",
                    m.actor,
                    m.reference,
                    m.note,
                )
                for m in view.movements
            ],
        )
    )
