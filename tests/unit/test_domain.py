"""Domain values: SKU keys, movement shapes, stock levels, allocation rules."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from core.domain.accounts import AllocationPolicy, AllocationRule
from core.domain.catalogue import Dimensions
from core.domain.ids import Sku, sku_key
from core.domain.stock import MovementReason, NewMovement, StockLevel
from tests.fakes import product


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("KOPI-001", "KOPI-001"),
        ("kopi-001", "KOPI-001"),
        (" Kopi-001 ", "KOPI-001"),
        ("KOPI 001", "KOPI001"),
        ("kopi\t001", "KOPI001"),
    ],
)
def test_sku_key_ignores_case_and_white_space(raw: str, key: str) -> None:
    assert sku_key(raw) == key


def _movement(reason: MovementReason, on_hand: int, reserved: int) -> NewMovement:
    return NewMovement(
        Sku("A"), reason, on_hand, reserved, idempotency_key="k", actor="t"
    )


@pytest.mark.parametrize(
    ("reason", "on_hand", "reserved"),
    [
        (MovementReason.RECEIPT, 5, 0),
        (MovementReason.ADJUSTMENT, -2, 0),
        (MovementReason.ADJUSTMENT, 3, 0),
        (MovementReason.ORDER_RESERVED, 0, 2),
        (MovementReason.ORDER_RELEASED, 0, -2),
        (MovementReason.ORDER_SHIPPED, -2, -2),
        (MovementReason.RETURN, 1, 0),
    ],
)
def test_each_reason_accepts_its_shape(
    reason: MovementReason, on_hand: int, reserved: int
) -> None:
    movement = _movement(reason, on_hand, reserved)
    assert movement.available_delta == on_hand - reserved


@pytest.mark.parametrize(
    ("reason", "on_hand", "reserved"),
    [
        (MovementReason.RECEIPT, -5, 0),
        (MovementReason.RECEIPT, 5, 1),
        (MovementReason.ADJUSTMENT, 0, 0),
        (MovementReason.ORDER_RESERVED, -1, 1),
        (MovementReason.ORDER_RESERVED, 0, -1),
        (MovementReason.ORDER_RELEASED, 0, 2),
        (MovementReason.ORDER_SHIPPED, -2, -1),
        (MovementReason.RETURN, 0, 0),
    ],
)
def test_a_reason_refuses_other_shapes(
    reason: MovementReason, on_hand: int, reserved: int
) -> None:
    with pytest.raises(ValueError, match=reason.value):
        _movement(reason, on_hand, reserved)


def test_a_movement_needs_a_key_and_an_actor() -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        NewMovement(
            Sku("A"), MovementReason.RECEIPT, 1, 0, idempotency_key=" ", actor="t"
        )
    with pytest.raises(ValueError, match="actor"):
        NewMovement(
            Sku("A"), MovementReason.RECEIPT, 1, 0, idempotency_key="k", actor=""
        )


def test_same_effect_compares_sku_keys_not_spelling() -> None:
    a = NewMovement(Sku("kopi-1"), MovementReason.RECEIPT, 1, 0, "k", "x")
    b = NewMovement(Sku("KOPI-1"), MovementReason.RECEIPT, 1, 0, "k", "y")
    c = NewMovement(Sku("KOPI-1"), MovementReason.RECEIPT, 2, 0, "k", "y")
    assert a.same_effect_as(b)
    assert not a.same_effect_as(c)


def test_available_is_on_hand_minus_reserved_and_may_go_negative() -> None:
    assert StockLevel(Sku("A"), 10, 3).available == 7
    assert StockLevel(Sku("A"), 1, 3).available == -2


@pytest.mark.parametrize(
    ("rule", "available", "listed"),
    [
        (AllocationRule(), 10, 10),
        (AllocationRule(), -3, 0),
        (AllocationRule(share_percent=50), 9, 4),
        (AllocationRule(safety_buffer=2), 10, 8),
        (AllocationRule(safety_buffer=12), 10, 0),
        (AllocationRule(cap=5), 10, 5),
        (AllocationRule(min_to_list=3), 2, 0),
        (AllocationRule(min_to_list=3), 3, 3),
        (
            AllocationRule(share_percent=40, safety_buffer=1, cap=3, min_to_list=2),
            11,
            3,
        ),
        (AllocationRule(share_percent=0), 100, 0),
    ],
)
def test_allocation_rule(rule: AllocationRule, available: int, listed: int) -> None:
    assert rule.allocate(available) == listed


@pytest.mark.parametrize(
    "kwargs",
    [
        {"share_percent": 101},
        {"share_percent": -1},
        {"safety_buffer": -1},
        {"cap": -1},
        {"min_to_list": -1},
    ],
)
def test_allocation_rule_refuses_impossible_values(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        AllocationRule(**kwargs)


def test_policy_overrides_and_exclusions_match_by_sku_key() -> None:
    policy = AllocationPolicy(
        default=AllocationRule(share_percent=50),
        overrides=MappingProxyType({"KOPI-1": AllocationRule(cap=2)}),
        excluded=frozenset({"BATIK-9"}),
    )
    assert policy.allocate("kopi-1", 10) == 2
    assert policy.allocate("OTHER", 10) == 5
    assert policy.allocate("batik-9", 10) is None


@pytest.mark.parametrize("price", [0, -1, 150000.5, 1_000_000_001])
def test_product_refuses_prices_that_are_not_whole_positive_rupiah(
    price: object,
) -> None:
    with pytest.raises(ValueError, match="whole rupiah"):
        product(price=price)


def test_fingerprint_changes_with_any_field_and_only_then() -> None:
    base = product()
    assert base.fingerprint == product().fingerprint
    for change in (
        {"name": "Kopi Arabika Flores Bajawa 500 g"},
        {"price": 85_001},
        {"dimensions": Dimensions(10, 10, 5)},
        {"image_urls": ("https://img.example/a.jpg",)},
        {"provenance": "WBP"},
    ):
        assert product(**change).fingerprint != base.fingerprint, change


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"on_hand_delta": 1_000_001}, "at most 1,000,000 units"),
        ({"idempotency_key": "k" * 256}, "idempotency_key holds at most 255"),
        ({"actor": "a" * 129}, "actor holds at most 128"),
        ({"reference": "r" * 256}, "reference holds at most 255"),
        ({"location": "l" * 33}, "location holds at most 32"),
        ({"location": " "}, "needs a location"),
    ],
)
def test_movement_fields_are_bounded(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "sku": Sku("A"), "reason": MovementReason.RECEIPT, "on_hand_delta": 1,
        "reserved_delta": 0, "idempotency_key": "k", "actor": "t", **changes,
    }  # fmt: skip
    with pytest.raises(ValueError, match=message):
        NewMovement(**values)  # type: ignore[arg-type]
