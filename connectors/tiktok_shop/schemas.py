"""TikTok Shop wire DTOs: what the Partner API answers and what the connector sends.

Response models ignore fields they do not name and are frozen; request models forbid
extra fields. Every answer comes in the ``{code, message, request_id, data}``
envelope (§4); ids are strings, money is a string with a ``currency`` (§6), times are
Unix seconds. :func:`connectors._parsing.parse` turns a validation failure into
:class:`~core.errors.ContractError` without echoing the answer's values.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

# ==================================================================== responses


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


DataT = TypeVar("DataT")


class Envelope(_Answer, Generic[DataT]):
    """``{"code": 0, "message": "Success", "request_id": "…", "data": {…}}`` (§4)."""

    code: int
    message: str = ""
    request_id: str = ""
    data: DataT


class ErrorEnvelope(_Answer):
    """Any answer, read for its ``code`` and ``message`` only."""

    code: int
    message: str = ""
    request_id: str = ""


class TokenData(_Answer):
    """``data`` of the token call (§2); the two ``*_expire_in`` are Unix times in
    the partner reference (a small number is read as seconds from now)."""

    access_token: str = Field(min_length=1)
    access_token_expire_in: int = Field(gt=0)
    refresh_token: str = Field(min_length=1)
    refresh_token_expire_in: int = Field(gt=0)
    open_id: str = ""
    seller_name: str = ""


class AuthorisedShop(_Answer):
    """One shop of ``GET /authorization/202309/shops``."""

    id: str
    cipher: str = Field(min_length=1)
    name: str = ""
    region: str = ""


class ShopsData(_Answer):
    """``data`` of the authorised shops call."""

    shops: list[AuthorisedShop] = Field(default_factory=list)


class SearchPrice(_Answer):
    """A SKU's price in product search: strings of rupiah."""

    currency: str = "IDR"
    sale_price: str | None = None
    tax_exclusive_price: str | None = None


class InventoryEntry(_Answer):
    """Stock in one warehouse."""

    warehouse_id: str | None = None
    quantity: int = 0


class SearchSku(_Answer):
    """One SKU of a searched product."""

    id: str
    seller_sku: str = ""
    price: SearchPrice | None = None
    inventory: list[InventoryEntry] = Field(default_factory=list)


class SearchProduct(_Answer):
    """One product of ``POST /product/202312/products/search``."""

    id: str
    title: str = ""
    status: str = ""
    skus: list[SearchSku] = Field(default_factory=list)
    update_time: int | None = None


class ProductSearchData(_Answer):
    """``data`` of product search: a page and the cursor to the next."""

    products: list[SearchProduct] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class CreatedSku(_Answer):
    """A SKU of a created product: its new id."""

    id: str
    seller_sku: str = ""


class CreatedProduct(_Answer):
    """``data`` of a create or edit: the product id and its SKUs' ids."""

    product_id: str
    skus: list[CreatedSku] = Field(default_factory=list)


class ErrorDetail(_Answer):
    """Which SKU (or product) one error of a per-item answer is about."""

    sku_id: str = ""
    product_id: str = ""


class ItemError(_Answer):
    """One failure of a per-item answer (inventory, price, deactivation)."""

    code: int = 0
    message: str = ""
    detail: ErrorDetail | None = None


class ItemErrors(_Answer):
    """``data`` of a per-item update: the items that failed (§5, §9)."""

    errors: list[ItemError] = Field(default_factory=list)


class LineItem(_Answer):
    """One line item of an order; TikTok lists each unit on its own line, so
    ``quantity`` is usually absent (one unit)."""

    id: str = ""
    product_id: str = ""
    sku_id: str = ""
    seller_sku: str = ""
    sale_price: str = "0"
    quantity: int | None = Field(default=None, ge=1)


class Payment(_Answer):
    """An order's amounts: strings, with a currency (§6)."""

    currency: str = "IDR"
    total_amount: str = "0"
    sub_total: str = "0"


class OrderRecord(_Answer):
    """One order, as order search and order detail show it."""

    id: str = Field(min_length=1)
    status: str
    create_time: int
    update_time: int
    line_items: list[LineItem] = Field(default_factory=list)
    payment: Payment = Field(default_factory=Payment)


class OrdersData(_Answer):
    """``data`` of order search (a page and its cursor) or order detail."""

    orders: list[OrderRecord] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


# ==================================================================== requests


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def wire(self) -> dict[str, object]:
        """The JSON body, without unset optional fields."""
        return self.model_dump(exclude_none=True)


class PriceBody(_Request):
    """``{amount, currency}``: whole rupiah as a string."""

    amount: str
    currency: str = "IDR"


class InventoryBody(_Request):
    """Stock of one SKU in one warehouse (the SKU's default when no id)."""

    quantity: int
    warehouse_id: str | None = None


class NewSku(_Request):
    """A SKU of a created product."""

    seller_sku: str
    price: PriceBody
    inventory: list[InventoryBody]


class Image(_Request):
    """An image by URI."""

    uri: str


class Weight(_Request):
    """``package_weight``: a number as a string and its unit."""

    value: str
    unit: str = "KILOGRAM"


class CreateProductBody(_Request):
    """``POST /product/202309/products``."""

    title: str
    description: str
    category_id: str
    package_weight: Weight
    skus: list[NewSku]
    main_images: list[Image] | None = None


class PartialEditBody(_Request):
    """``POST /product/202309/products/{id}/partial_edit``: content only."""

    title: str
    description: str
    category_id: str
    package_weight: Weight
    main_images: list[Image] | None = None


class SkuStock(_Request):
    """One SKU of an inventory update."""

    id: str
    inventory: list[InventoryBody]


class SkuPrice(_Request):
    """One SKU of a price update."""

    id: str
    price: PriceBody


class InventoryUpdateBody(_Request):
    """``POST …/inventory/update``."""

    skus: list[SkuStock]


class PriceUpdateBody(_Request):
    """``POST …/prices/update``."""

    skus: list[SkuPrice]


class ProductIdsBody(_Request):
    """``POST /product/202309/products/activate`` and ``…/deactivate``."""

    product_ids: list[str]


class ProductSearchBody(_Request):
    """``POST /product/202312/products/search``."""

    seller_skus: list[str] | None = None
    status: str | None = None


class OrderSearchBody(_Request):
    """``POST /order/202309/orders/search`` filters (Unix seconds)."""

    update_time_ge: int | None = None
    update_time_lt: int | None = None
    create_time_ge: int | None = None
    create_time_lt: int | None = None
    order_status: str | None = None
