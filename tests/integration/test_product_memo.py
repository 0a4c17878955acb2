"""Products read through the fingerprint memo are always the stored ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.domain.catalogue import Producer, ProducerKind, ProductStatus
from core.domain.ids import ProducerCode
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock, product

pytestmark = pytest.mark.db

Factory = Callable[[], SqlUnitOfWork]
MAKER = ProducerCode("IKM-NTT-001")


@pytest.fixture
def seeded(sql_uow: Factory, clock: FakeClock) -> Factory:
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(MAKER, "Koperasi Kopi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        uow.products.add_many([product("KOPI-1"), product("KOPI-2")], clock.now())
        uow.commit()
    return sql_uow


def test_a_changed_product_is_read_as_changed(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        before = uow.products.for_producers([MAKER])
        assert uow.products.get_many(["KOPI-1"]) == {"KOPI-1": before["KOPI-1"]}
    changed = product("KOPI-1", name="Kopi Arabika Flores 500 g", price=150_000)
    archived = product("KOPI-2", status=ProductStatus.ARCHIVED)
    with seeded() as uow:
        uow.products.update_many([changed, archived], clock.now())
        uow.commit()

    with seeded() as uow:
        after = uow.products.for_producers([MAKER])
        again = uow.products.get_many(["KOPI-1", "KOPI-2", "NOPE"])

    assert after == {"KOPI-1": changed, "KOPI-2": archived}
    assert again == after
    assert after["KOPI-1"].name == "Kopi Arabika Flores 500 g"
    assert after["KOPI-2"].status is ProductStatus.ARCHIVED


def test_an_unchanged_product_is_the_same_object_the_second_time(
    seeded: Factory,
) -> None:
    with seeded() as uow:
        first = uow.products.for_producers([MAKER])
    with seeded() as uow:
        second = uow.products.for_producers([MAKER])
    assert second == first
    assert all(second[key] is first[key] for key in first)
