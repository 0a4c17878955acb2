"""Products in the database, matched by SKU key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from core.domain.catalogue import Condition, Dimensions, Product, ProductStatus
from core.domain.ids import ProducerCode, Sku, sku_key
from core.errors import DomainError
from core.ports import ProductIndexEntry
from core.store._sql import chunks, update_many_by
from core.store.tables import ProducerRow, ProductRow

_COLUMNS = (
    ProductRow.sku,
    ProducerRow.code,
    ProductRow.name,
    ProductRow.description,
    ProductRow.category,
    ProductRow.price,
    ProductRow.weight_grams,
    ProductRow.length_cm,
    ProductRow.width_cm,
    ProductRow.height_cm,
    ProductRow.image_urls,
    ProductRow.condition,
    ProductRow.status,
    ProductRow.provenance,
)


def _to_domain(row: Any) -> Product:
    (sku, code, name, description, category, price, weight, length, width, height,
     images, condition, status, provenance) = row  # fmt: skip
    dimensions = (
        Dimensions(length, width, height)
        if length is not None and width is not None and height is not None
        else None
    )
    return Product(
        sku=Sku(sku),
        producer_code=ProducerCode(code),
        name=name,
        price=int(price),
        weight_grams=int(weight),
        description=description,
        category=category,
        dimensions=dimensions,
        image_urls=tuple(images or ()),
        condition=Condition(condition),
        status=ProductStatus(status),
        provenance=provenance,
    )


def _values(product: Product, producer_id: int) -> dict[str, Any]:
    dims = product.dimensions
    return {
        "sku": product.sku,
        "sku_key": product.key,
        "producer_id": producer_id,
        "name": product.name,
        "description": product.description,
        "category": product.category,
        "price": product.price,
        "weight_grams": product.weight_grams,
        "length_cm": dims.length_cm if dims else None,
        "width_cm": dims.width_cm if dims else None,
        "height_cm": dims.height_cm if dims else None,
        "image_urls": list(product.image_urls),
        "condition": product.condition.value,
        "status": product.status.value,
        "provenance": product.provenance,
        "fingerprint": product.fingerprint(),
    }


class SqlProductRepository:
    """``core.ports.ProductRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _select(self) -> Any:
        return select(*_COLUMNS).join(ProducerRow, ProducerRow.id == ProductRow.producer_id)

    def get(self, sku: str) -> Product | None:
        row = self._session.execute(
            self._select().where(ProductRow.sku_key == sku_key(sku))
        ).first()
        return None if row is None else _to_domain(row)

    def index(self) -> dict[str, ProductIndexEntry]:
        rows = self._session.execute(
            select(ProductRow.sku_key, ProductRow.sku, ProductRow.fingerprint)
        )
        return {key: ProductIndexEntry(sku, fp) for key, sku, fp in rows}

    def ids_by_key(self, keys: Iterable[str] | None = None) -> dict[str, int]:
        """Surrogate keys by SKU key, for the other repositories."""
        statement = select(ProductRow.sku_key, ProductRow.id)
        if keys is None:
            return {k: int(i) for k, i in self._session.execute(statement)}
        found: dict[str, int] = {}
        for batch in chunks(set(keys)):
            rows = self._session.execute(statement.where(ProductRow.sku_key.in_(batch)))  # type: ignore[attr-defined]
            found.update({k: int(i) for k, i in rows})
        return found

    def get_many(self, keys: Iterable[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        for batch in chunks(set(keys)):
            rows = self._session.execute(
                self._select().where(ProductRow.sku_key.in_(batch))  # type: ignore[attr-defined]
            )
            for row in rows:
                product = _to_domain(row)
                found[product.key] = product
        return found

    def _producer_ids(self, products: Sequence[Product]) -> dict[str, int]:
        codes = {p.producer_code for p in products}
        rows = self._session.execute(
            select(ProducerRow.code, ProducerRow.id).where(ProducerRow.code.in_(codes))  # type: ignore[attr-defined]
        )
        ids = {code: int(id_) for code, id_ in rows}
        missing = sorted(codes - ids.keys())
        if missing:
            raise DomainError(f"unknown producer code(s): {', '.join(missing)}")
        return ids

    def add_many(self, products: Sequence[Product], at: datetime) -> None:
        if not products:
            return
        producer_ids = self._producer_ids(products)
        for batch in chunks(products, 5000):
            self._session.execute(
                sa.insert(ProductRow),
                [
                    {
                        **_values(p, producer_ids[p.producer_code]),
                        "created_at": at,
                        "updated_at": at,
                    }
                    for p in batch
                ],
            )

    def update_many(self, products: Sequence[Product], at: datetime) -> None:
        if not products:
            return
        producer_ids = self._producer_ids(products)
        for batch in chunks(products, 5000):
            update_many_by(
                self._session,
                ProductRow.__table__,  # type: ignore[attr-defined]
                "sku_key",
                [
                    {**_values(p, producer_ids[p.producer_code]), "updated_at": at}
                    for p in batch
                ],
            )

    def iter_all(self) -> Iterator[Product]:
        result = self._session.execute(
            self._select().order_by(ProductRow.sku_key).execution_options(yield_per=1000)
        )
        for row in result:
            yield _to_domain(row)

    def count_by_status(self) -> dict[ProductStatus, int]:
        rows = self._session.execute(
            select(ProductRow.status, func.count()).group_by(ProductRow.status)
        )
        return {ProductStatus(status): int(count) for status, count in rows}
