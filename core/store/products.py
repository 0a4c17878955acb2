"""Products in the database, matched by SKU key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from core.domain.catalogue import Condition, Dimensions, Product, ProductStatus
from core.domain.ids import ProducerCode, Sku, sku_key
from core.errors import DomainError
from core.ports import ProductIndexEntry
from core.store._sql import CHUNK, bulk_insert, chunks, update_many_by
from core.store.tables import ProducerRow, ProductRow, table_of

_COLUMNS = (
    col(ProductRow.sku),
    col(ProducerRow.code),
    col(ProductRow.name),
    col(ProductRow.description),
    col(ProductRow.category),
    col(ProductRow.price),
    col(ProductRow.weight_grams),
    col(ProductRow.length_cm),
    col(ProductRow.width_cm),
    col(ProductRow.height_cm),
    col(ProductRow.image_urls),
    col(ProductRow.condition),
    col(ProductRow.status),
    col(ProductRow.provenance),
)


def _to_domain(row: Any) -> Product:
    (
        sku,
        code,
        name,
        description,
        category,
        price,
        weight,
        length,
        width,
        height,
        images,
        condition,
        status,
        provenance,
    ) = row
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


#: Products read before, by the fingerprint stored with their row. A fingerprint is a
#: digest of every field of a product (and is rewritten with the row), so the product
#: read under one is the product any row carrying it holds: the memo is keyed by
#: content and shared by every session, database and thread of the process.
_PRODUCTS: dict[str, Product] = {}
#: Above this many, the memo starts afresh (a bound on its memory).
_PRODUCTS_LIMIT = 100_000


def _remember(fingerprint: str, product: Product) -> None:
    if len(_PRODUCTS) >= _PRODUCTS_LIMIT:
        _PRODUCTS.clear()
    _PRODUCTS[fingerprint] = product


#: Enum members to stored text by plain lookup (``.value`` is a slow descriptor).
_CONDITIONS = {c: c.value for c in Condition}
_STATUSES = {s: s.value for s in ProductStatus}


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
        "condition": _CONDITIONS[product.condition],
        "status": _STATUSES[product.status],
        "provenance": product.provenance,
        "fingerprint": product.fingerprint,
    }


#: The PostgreSQL advisory lock that serialises catalogue imports (any fixed number).
IMPORT_LOCK_KEY = 0x494B4D01


class SqlProductRepository:
    """``core.ports.ProductRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _select(self, *, fingerprinted: bool = False) -> Any:
        """Product rows; ``fingerprinted`` adds the SKU key and the stored
        fingerprint as the last two columns."""
        columns = (
            (*_COLUMNS, col(ProductRow.sku_key), col(ProductRow.fingerprint))
            if fingerprinted
            else _COLUMNS
        )
        return select(*columns).join(
            ProducerRow, col(ProducerRow.id) == col(ProductRow.producer_id)
        )

    def hold_for_import(self) -> None:
        # SQLite: every writing transaction already begins IMMEDIATE (one writer).
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY}
            )

    def get(self, sku: str) -> Product | None:
        row = self._session.execute(
            self._select().where(col(ProductRow.sku_key) == sku_key(sku))
        ).first()
        return None if row is None else _to_domain(row)

    def index(self, keys: Iterable[str] | None = None) -> dict[str, ProductIndexEntry]:
        statement = select(
            col(ProductRow.sku_key),
            col(ProductRow.sku),
            col(ProductRow.fingerprint),
            col(ProductRow.source_digest),
        )
        connection = self._session.connection()  # Core rows: no ORM processing
        batches = (
            [statement]
            if keys is None
            else [
                statement.where(col(ProductRow.sku_key).in_(batch))
                for batch in chunks(set(keys))
            ]
        )
        return {
            key: ProductIndexEntry(sku, fp, digest)
            for batch in batches
            for key, sku, fp, digest in connection.execute(batch)
        }

    def source_digests(self) -> dict[str, str]:
        rows = self._session.connection().execute(
            select(col(ProductRow.sku_key), col(ProductRow.source_digest)).where(
                col(ProductRow.source_digest).is_not(None)
            )
        )
        return {str(key): str(digest) for key, digest in rows if digest is not None}

    def ids_by_key(self, keys: Iterable[str] | None = None) -> dict[str, int]:
        """Surrogate keys by SKU key, for the other repositories."""
        statement = select(col(ProductRow.sku_key), col(ProductRow.id))
        if keys is None:
            return {k: int(i) for k, i in self._session.execute(statement)}
        found: dict[str, int] = {}
        for batch in chunks(set(keys)):
            rows = self._session.execute(
                statement.where(col(ProductRow.sku_key).in_(batch))
            )
            found.update({k: int(i) for k, i in rows})
        return found

    def get_many(self, keys: Iterable[str]) -> dict[str, Product]:
        return self._memoised(
            [col(ProductRow.sku_key).in_(batch) for batch in chunks(set(keys))]
        )

    def _memoised(self, conditions: Sequence[Any]) -> dict[str, Product]:
        """The products matching any of ``conditions``, by SKU key.

        The stored fingerprints are read first; only the rows whose fingerprint is
        not in the memo are read in full and made into products.
        """
        found: dict[str, Product] = {}
        unknown: list[str] = []
        connection = self._session.connection()  # Core rows: no ORM processing
        for condition in conditions:
            rows = connection.execute(
                select(col(ProductRow.sku_key), col(ProductRow.fingerprint))
                .join(ProducerRow, col(ProducerRow.id) == col(ProductRow.producer_id))
                .where(condition)
            ).all()
            for key, fingerprint in rows:
                known = _PRODUCTS.get(fingerprint)
                if known is not None and known.key == key:
                    found[key] = known
                else:
                    unknown.append(key)
        if len(unknown) > 4 * CHUNK:  # read again in full: beats many IN lists
            statements = [
                self._select(fingerprinted=True).where(condition)
                for condition in conditions
            ]
        else:
            statements = [
                self._select(fingerprinted=True).where(
                    col(ProductRow.sku_key).in_(batch)
                )
                for batch in chunks(unknown)
            ]
        for statement in statements:
            for row in self._session.execute(statement):
                if row[-2] in found:
                    continue
                product = _to_domain(row[:-2])
                found[product.key] = product
                _remember(row[-1], product)
        return found

    def _producer_ids(self, products: Sequence[Product]) -> dict[str, int]:
        codes = {p.producer_code for p in products}
        rows = self._session.execute(
            select(col(ProducerRow.code), col(ProducerRow.id)).where(
                col(ProducerRow.code).in_(codes)
            )
        )
        ids = {code: int(id_) for code, id_ in rows}
        missing = sorted(codes - ids.keys())
        if missing:
            raise DomainError(f"unknown producer code(s): {', '.join(missing)}")
        return ids

    def _rows(
        self, products: Sequence[Product], source_digests: Mapping[str, str] | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Row values in batches, with producer ids and source digests filled in."""
        producer_ids = self._producer_ids(products)
        digests = source_digests or {}
        for batch in chunks(products, 5000):
            yield [
                {
                    **_values(p, producer_ids[p.producer_code]),
                    "source_digest": digests.get(p.key),
                }
                for p in batch
            ]

    def add_many(
        self,
        products: Sequence[Product],
        at: datetime,
        source_digests: Mapping[str, str] | None = None,
    ) -> None:
        if not products:
            return
        for rows in self._rows(products, source_digests):
            bulk_insert(
                self._session,
                table_of(ProductRow),
                rows,
                constants={"created_at": at, "updated_at": at},
            )

    def update_many(
        self,
        products: Sequence[Product],
        at: datetime,
        source_digests: Mapping[str, str] | None = None,
    ) -> None:
        if not products:
            return
        for rows in self._rows(products, source_digests):
            update_many_by(
                self._session,
                table_of(ProductRow),
                "sku_key",
                [{**row, "updated_at": at} for row in rows],
            )

    def iter_all(self) -> Iterator[Product]:
        result = self._session.execute(
            self._select()
            .order_by(col(ProductRow.sku_key))
            .execution_options(yield_per=1000)
        )
        for row in result:
            yield _to_domain(row)

    def for_producers(self, codes: Iterable[str]) -> dict[str, Product]:
        # Planning reads a producer's whole catalogue every cycle: through the memo,
        # only products changed since they were last read are read in full.
        return self._memoised(
            [col(ProducerRow.code).in_(batch) for batch in chunks(set(codes))]
        )

    def count_by_status(self) -> dict[ProductStatus, int]:
        rows = self._session.execute(
            select(col(ProductRow.status), func.count()).group_by(
                col(ProductRow.status)
            )
        )
        return {ProductStatus(status): int(count) for status, count in rows}
