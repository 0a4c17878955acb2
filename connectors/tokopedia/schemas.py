"""Tokopedia wire DTOs: what the Seller API answers and what the connector sends.

Response models ignore fields they do not name and are frozen (additive API changes do
not break parsing); request models forbid extra fields. Field names and their mixed
casing (``productID``, ``Name``, ``LastUpdateUnix``) follow tokopedia.md; fields the
page does not document are optional. :func:`connectors._parsing.parse` turns a
validation failure into :class:`~core.errors.ContractError` without echoing the
answer's values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

# ==================================================================== responses


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Header(_Answer):
    """``header`` of the envelope (§3.1); errors add ``reason`` and ``error_code``."""

    process_time: float | None = None
    messages: str = ""
    reason: str = ""
    error_code: str = ""


DataT = TypeVar("DataT")


class Envelope(_Answer, Generic[DataT]):
    """``{"header": {…}, "data": …}`` (§3.1)."""

    header: Header = Field(default_factory=Header)
    data: DataT


class ErrorEnvelope(_Answer):
    """An error answer: the header matters, ``data`` is null."""

    header: Header = Field(default_factory=Header)


class TokenAnswer(_Answer):
    """``POST /token?grant_type=client_credentials`` (§2.1)."""

    access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name


class TokenErrorAnswer(_Answer):
    """An OAuth-style token error (``error``, ``error_description``) [INF]."""

    error: str = ""
    error_description: str = ""


class FailedUpdateRow(_Answer):
    """A failed row of a stock or price update (§5.3)."""

    product_id: int | None = None
    sku: str = ""
    message: str = ""


class RowUpdateResult(_Answer):
    """``data`` of a stock or price update (§5.3, §5.4)."""

    failed_rows: int = 0
    succeed_rows: int = 0
    failed_rows_data: list[FailedUpdateRow] = Field(default_factory=list)


class SuccessProductRow(_Answer):
    """A created or edited product (§5.1); ``sku`` when the answer names it."""

    product_id: int
    sku: str = ""


class FailedProductRow(_Answer):
    """A refused create or edit row (§5.1): its name, SKU and the reasons."""

    product_id: int | None = None
    product_name: str = ""
    sku: str = ""
    error: list[str] = Field(default_factory=list)

    @field_validator("error", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value


class ProductRowsResult(_Answer):
    """``data`` of a v3 create or edit (§5.1)."""

    total_data: int | None = None
    success_data: int | None = None
    fail_data: int | None = None
    success_rows_data: list[SuccessProductRow] = Field(default_factory=list)
    failed_rows_data: list[FailedProductRow] = Field(default_factory=list)


class FailedIdRow(_Answer):
    """A refused id of an active/inactive call [INF: the page shows no answer]."""

    product_id: int | None = None
    message: str = ""


class ActiveResult(_Answer):
    """``data`` of ``…/active`` and ``…/inactive`` (shape not on the page) [INF]."""

    failed_rows_data: list[FailedIdRow] = Field(default_factory=list)


class ProductBasic(_Answer):
    """``basic`` of a product info item (§5.7)."""

    product_id: int = Field(alias="productID")
    shop_id: int | None = Field(default=None, alias="shopID")
    status: int
    name: str = Field(default="", alias="Name")


class ProductPrice(_Answer):
    """``price`` of a product info item: whole rupiah."""

    value: int
    last_update_unix: int | None = Field(default=None, alias="LastUpdateUnix")


class ProductStock(_Answer):
    """``stock`` of a product info item."""

    value: int = 0


class ProductOther(_Answer):
    """``other`` of a product info item: the seller SKU and the page address."""

    sku: str = ""
    url: str = ""


class ProductInfo(_Answer):
    """One item of ``GET …/product/info`` (§5.7)."""

    basic: ProductBasic
    price: ProductPrice
    stock: ProductStock = Field(default_factory=ProductStock)
    main_stock: int | None = None
    reserve_stock: int | None = None
    other: ProductOther = Field(default_factory=ProductOther)


class OrderProduct(_Answer):
    """A product line of an order list row (§6.1)."""

    id: int | None = None
    name: str = ""
    quantity: int
    price: int
    total_price: int | None = None
    sku: str = ""


class OrderAmounts(_Answer):
    """``amt`` of an order (§7.3 names its fields)."""

    ttl_product_price: int | None = None
    ttl_amount: int | None = None


class OrderRow(_Answer):
    """One row of ``GET /v2/order/list`` (§6.1)."""

    order_id: int
    order_status: int
    invoice_ref_num: str = ""
    shop_id: int | None = None
    products: list[OrderProduct] = Field(default_factory=list)
    amt: OrderAmounts | None = None
    create_time: datetime | None = None


class OrderDetailLine(_Answer):
    """A line of a single order (``order_info.order_detail``) [SDK fixtures]."""

    product_id: int | None = None
    product_name: str = ""
    product_price: int
    quantity: int
    subtotal_price: int | None = None
    sku: str = ""


class OrderInfo(_Answer):
    """``order_info`` of a single order."""

    order_detail: list[OrderDetailLine] = Field(default_factory=list)


class OrderDetail(_Answer):
    """``GET /v2/fs/{fs_id}/order`` (§6.2)."""

    order_id: int
    order_status: int
    invoice_number: str = ""
    item_price: int | None = None
    open_amt: int | None = None
    order_info: OrderInfo = Field(default_factory=OrderInfo)
    create_time: datetime | None = None
    update_time: datetime | None = None
    payment_date: datetime | None = None


# ==================================================================== requests


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def wire(self) -> dict[str, Any]:
        """The JSON object to send (absent optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class StockRow(_Request):
    """A stock update row, keyed by ``sku`` (§5.3)."""

    sku: str
    new_stock: int


class PriceRow(_Request):
    """A price update row, keyed by ``sku`` (§5.4)."""

    sku: str
    new_price: int


class Dimension(_Request):
    """``dimension``: all three sides together, centimetres (§5.1)."""

    height: int
    width: int
    length: int


class Picture(_Request):
    """``pictures[]``: a picture Tokopedia fetches from a URL (§5.1)."""

    file_path: str


class CreateProduct(_Request):
    """One product of a v3 create (§5.1; required fields per §11)."""

    name: str
    category_id: int
    price: int
    price_currency: str = "IDR"
    status: str
    weight: int
    weight_unit: str = "GR"
    condition: str
    min_order: int
    sku: str
    stock: int
    description: str | None = None
    dimension: Dimension | None = None
    pictures: list[Picture] | None = None


class EditProduct(_Request):
    """One product of a v3 edit (§5.2): its id and the content to set."""

    id: int
    sku: str
    name: str
    category_id: int
    description: str | None = None
    weight: int
    weight_unit: str = "GR"
    condition: str
    dimension: Dimension | None = None
    pictures: list[Picture] | None = None


class ProductsBody(_Request):
    """``{"products": […]}`` of create and edit."""

    products: list[CreateProduct] | list[EditProduct]


class ProductIdsBody(_Request):
    """``{"product_id": […]}`` of active and inactive (§5.5)."""

    product_id: list[int]
