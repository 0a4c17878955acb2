"""Wire DTOs of the Bukalapak API v4 (page §2 to §5 and §9), private to this package.

Response models ignore fields they do not name (``extra="ignore"``) and are frozen;
request models forbid anything unnamed. Money is integer rupiah: an amount with a
fraction fails validation, which :func:`parse` turns into ``ContractError``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ContractError, Where


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- envelope (§3)


class ErrorEntry(_Response):
    """One ``errors[]`` entry; ``code`` values are never used to classify (§9)."""

    code: int | str | None = None
    message: str = ""


class Meta(_Response):
    """``meta``: the mirrored status and, on some lists, ``total``."""

    http_status: int | None = None
    total: int | None = None


class Envelope(_Response):
    """``{data, meta, errors}``, read for classification only."""

    meta: Meta | None = None
    errors: list[ErrorEntry] | None = None
    #: RFC 6749 error of the accounts host (``invalid_grant`` …).
    error: str | None = None


# ---------------------------------------------------------------- tokens (§2)


class TokenAnswer(_Response):
    """The token JSON of page §2.2; expiry is ``created_at + expires_in``."""

    access_token: str = Field(min_length=1)
    refresh_token: str | None = None
    expires_in: int
    created_at: int | None = None
    scope: str | None = None


class TokenEnvelope(_Response):
    """A token answer: the fields at the top level or under ``data``."""

    access_token: str | None = None
    data: TokenAnswer | None = None


# ---------------------------------------------------------------- products (§4)


class SkuDto(_Response):
    """A SKU (``variants[]`` / ``skus[]`` entry); price, stock and state are read
    when present (page §4.1 names only the ids and names)."""

    id: int | str
    product_id: int | str | None = None
    sku_name: str = ""
    variant_name: str = ""
    price: int | None = None
    stock: int | None = None
    state: str | None = None
    updated_at: datetime | None = None


class ProductDto(_Response):
    """A product with its SKUs."""

    id: int | str
    name: str = ""
    state: str | None = None
    variants: list[SkuDto] | None = None
    skus: list[SkuDto] | None = None
    updated_at: datetime | None = None

    def all_skus(self) -> list[SkuDto]:
        """``variants`` (the page's name), else ``skus``."""
        return list(self.variants or self.skus or [])


class ProductPage(_Response):
    """``GET /stores/me/products``."""

    data: list[ProductDto]
    meta: Meta = Meta()


class ProductAnswer(_Response):
    """``POST /products`` (``data{id, skus[{id, sku_name}]}``, page §9)."""

    data: ProductDto


class SkuList(_Response):
    """``GET /products/{id}/skus``."""

    data: list[SkuDto]


class SkuAnswer(_Response):
    """``PATCH /products/{id}/skus/{sku_id}``; ``data`` is not relied upon."""

    data: dict[str, Any] | None = None


class CreateProduct(_Request):
    """``POST /products`` body (page §9)."""

    name: str
    category_id: int
    price: int
    weight: int
    stock: int
    description: str
    condition: Literal["new", "used"]
    images: list[int] = Field(min_length=1, max_length=5)
    sku_name: str


class UpdateSku(_Request):
    """``PATCH /products/{id}/skus/{sku_id}`` body: one of stock, price, state."""

    stock: int | None = None
    price: int | None = None
    state: Literal["active", "inactive"] | None = None


# ---------------------------------------------------------------- transactions (§5)


class ItemProduct(_Response):
    """``items[].stuff.product``."""

    weight: int | None = None


class Stuff(_Response):
    """``items[].stuff``: the SKU sold."""

    id: int | str | None = None
    sku_name: str = ""
    product: ItemProduct | None = None


class Item(_Response):
    """``items[]``: quantity and unit price (integer rupiah)."""

    quantity: int
    price: int
    total_price: int | None = None
    stuff: Stuff


class SellerAmount(_Response):
    """``amount.seller``."""

    total: int


class Amount(_Response):
    """``amount``."""

    seller: SellerAmount


class TransactionDto(_Response):
    """A transaction (page §5.2). ``amount`` and ``items`` may be absent from list
    rows; the connector then reads the detail."""

    id: int | str
    transaction_id: str = ""
    state: str
    created_at: datetime
    updated_at: datetime | None = None
    state_changed_at: datetime | None = None
    amount: Amount | None = None
    items: list[Item] | None = None


class TransactionPage(_Response):
    """``GET /transactions``."""

    data: list[TransactionDto]
    meta: Meta = Meta()


class TransactionAnswer(_Response):
    """``GET /transactions/{id}``."""

    data: TransactionDto


_M = TypeVar("_M", bound=BaseModel)


def parse(model: type[_M], payload: object, where: Where) -> _M:
    """Validate an answer, or raise ``ContractError`` naming the first problem."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "(body)"
        raise ContractError(
            f"unexpected answer: {place}: {first['msg']}", **where
        ) from None
