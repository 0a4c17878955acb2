"""Shopee Open Platform v2 wire DTOs (shopee.md §2-§5); private to this package.

Response models ignore unknown fields (Shopee adds fields freely) and are frozen;
request models forbid unknown fields, so a typo fails here rather than at Shopee.
Lists that Shopee may send as ``null`` read as empty.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt


def _none_as_empty(value: object) -> object:
    return [] if value is None else value


def _number_as_text(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return "" if value is None else value


_NoneIsEmpty = BeforeValidator(_none_as_empty)


class WireResponse(BaseModel):
    """Base of every response DTO."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class WireRequest(BaseModel):
    """Base of every request DTO."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------- envelopes


class Envelope(WireResponse):
    """``{error, message, warning, request_id, response}`` (§3.1)."""

    error: str = ""
    message: str = ""
    request_id: str = ""
    response: dict[str, Any] | None = None


class TokenAnswer(WireResponse):
    """``auth/token/get`` and ``auth/access_token/get``: top-level fields (§2.2)."""

    access_token: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    expire_in: int = Field(gt=0)
    shop_id_list: Annotated[list[int], _NoneIsEmpty] = Field(default_factory=list)
    shop_id: int | None = None
    request_id: str = ""


class TokenRequest(WireRequest):
    """Body of ``auth/token/get``."""

    code: str
    partner_id: int
    shop_id: int


class RefreshRequest(WireRequest):
    """Body of ``auth/access_token/get``."""

    refresh_token: str
    partner_id: int
    shop_id: int


# --------------------------------------------------------------------- shop


class ShopInfo(WireResponse):
    """``shop/get_shop_info`` (the fields the connector reads), read from the
    answer's top level: the reference's sample has no ``response`` object (§3.1).
    ``auth_time``/``expire_time`` are Unix seconds (the reference's type
    ``timestamp``, an integer in its sample)."""

    shop_name: str = ""
    region: str = ""
    status: str = ""
    auth_time: StrictInt | None = None
    expire_time: StrictInt | None = None


# --------------------------------------------------------------------- products


class AttributeValueBody(WireRequest):
    """One value of an attribute."""

    value_id: int
    original_value_name: str | None = None
    value_unit: str | None = None


class AttributeBody(WireRequest):
    """One entry of ``attribute_list``."""

    attribute_id: int
    attribute_value_list: list[AttributeValueBody]


class ImageBody(WireRequest):
    """``image``: ids from ``media_space/upload_image``."""

    image_id_list: list[str]


class LogisticBody(WireRequest):
    """One entry of ``logistic_info``."""

    logistic_id: int
    enabled: bool
    shipping_fee: int | None = None
    size_id: int | None = None
    is_free: bool | None = None


class DimensionBody(WireRequest):
    """Package size in whole centimetres."""

    package_length: int
    package_width: int
    package_height: int


class SellerStockBody(WireRequest):
    """One ``seller_stock`` entry."""

    stock: int
    location_id: str | None = None


class BrandBody(WireRequest):
    """``brand``."""

    brand_id: int
    original_brand_name: str


class PreOrderBody(WireRequest):
    """``pre_order``."""

    is_pre_order: bool
    days_to_ship: int


class AddItemRequest(WireRequest):
    """Body of ``product/add_item`` (§4.1): one item."""

    item_name: str
    description: str
    category_id: int
    original_price: int
    weight: float
    image: ImageBody
    logistic_info: list[LogisticBody]
    attribute_list: list[AttributeBody]
    item_sku: str
    condition: Literal["NEW", "USED"]
    seller_stock: list[SellerStockBody]
    item_status: Literal["NORMAL", "UNLIST"] = "NORMAL"
    dimension: DimensionBody | None = None
    brand: BrandBody | None = None
    pre_order: PreOrderBody | None = None


class UpdateItemRequest(WireRequest):
    """Body of ``product/update_item`` (§4.4): ``item_id`` plus changed fields only;
    never price or stock."""

    item_id: int
    item_name: str | None = None
    description: str | None = None
    item_sku: str | None = None
    category_id: int | None = None
    attribute_list: list[AttributeBody] | None = None
    weight: float | None = None
    dimension: DimensionBody | None = None
    image: ImageBody | None = None
    condition: Literal["NEW", "USED"] | None = None
    item_status: Literal["NORMAL", "UNLIST"] | None = None


class AddedItem(WireResponse):
    """``add_item`` answer: the new ``item_id`` (the echo is ignored)."""

    item_id: int


class StockRow(WireRequest):
    """One model of ``update_stock``."""

    model_id: int
    seller_stock: list[SellerStockBody]


class UpdateStockRequest(WireRequest):
    """Body of ``product/update_stock``: one item, 1-50 models (§4.5)."""

    item_id: int
    stock_list: list[StockRow] = Field(min_length=1, max_length=50)


class PriceRow(WireRequest):
    """One model of ``update_price`` (whole rupiah)."""

    model_id: int
    original_price: int


class UpdatePriceRequest(WireRequest):
    """Body of ``product/update_price``: one item, 1-50 models (§4.6)."""

    item_id: int
    price_list: list[PriceRow] = Field(min_length=1, max_length=50)


class RowSuccess(WireResponse):
    """One ``success_list`` entry."""

    model_id: int = 0


class RowFailure(WireResponse):
    """One ``failure_list`` entry."""

    model_id: int = 0
    failed_reason: str = ""


class BatchResult(WireResponse):
    """``success_list`` / ``failure_list`` of ``update_stock`` / ``update_price``."""

    success_list: Annotated[list[RowSuccess], _NoneIsEmpty] = Field(
        default_factory=list
    )
    failure_list: Annotated[list[RowFailure], _NoneIsEmpty] = Field(
        default_factory=list
    )


class BatchAnswer(WireResponse):
    """A batch answer with the envelope's error, for the all-rows-failed error that
    still carries per-row reasons."""

    error: str = ""
    message: str = ""
    result: BatchResult = Field(default_factory=BatchResult)


class UnlistRow(WireRequest):
    """One item of ``unlist_item``: off sale (``unlist``) or back on sale."""

    item_id: int
    unlist: bool


class UnlistItemRequest(WireRequest):
    """Body of ``product/unlist_item``: 1-50 items (§4.10a)."""

    item_list: list[UnlistRow] = Field(min_length=1, max_length=50)


class UnlistSuccess(WireResponse):
    """One ``success_list`` entry of ``unlist_item``."""

    item_id: int
    unlist: bool


class UnlistFailure(WireResponse):
    """One ``failure_list`` entry of ``unlist_item``."""

    item_id: int
    failed_reason: str = ""


class UnlistResult(WireResponse):
    """``success_list`` / ``failure_list`` of ``unlist_item``."""

    success_list: Annotated[list[UnlistSuccess], _NoneIsEmpty] = Field(
        default_factory=list
    )
    failure_list: Annotated[list[UnlistFailure], _NoneIsEmpty] = Field(
        default_factory=list
    )


class UnlistAnswer(WireResponse):
    """An ``unlist_item`` answer with the envelope's error, for the all-failed
    error that still carries each item's reason."""

    error: str = ""
    message: str = ""
    result: UnlistResult = Field(default_factory=UnlistResult)


class PriceInfo(WireResponse):
    """One ``price_info`` entry."""

    currency: str = "IDR"
    original_price: float
    current_price: float | None = None


class SellerStock(WireResponse):
    """One ``seller_stock`` entry of ``stock_info_v2``."""

    location_id: str = ""
    stock: int = 0


class StockSummary(WireResponse):
    """``stock_info_v2.summary_info``."""

    total_reserved_stock: int = 0


class StockInfo(WireResponse):
    """``stock_info_v2``."""

    summary_info: StockSummary | None = None
    seller_stock: Annotated[list[SellerStock], _NoneIsEmpty] = Field(
        default_factory=list
    )


class ItemBaseInfo(WireResponse):
    """One ``get_item_base_info`` entry (§4.8)."""

    item_id: int
    item_name: str = ""
    item_sku: str = ""
    item_status: str
    update_time: int | None = None
    has_model: bool = False
    price_info: Annotated[list[PriceInfo], _NoneIsEmpty] = Field(default_factory=list)
    stock_info_v2: StockInfo | None = None


class ItemBaseInfoList(WireResponse):
    """``get_item_base_info`` answer."""

    item_list: Annotated[list[ItemBaseInfo], _NoneIsEmpty] = Field(default_factory=list)


class ModelInfo(WireResponse):
    """One ``get_model_list`` model (§4.9)."""

    model_id: int
    model_sku: str = ""
    model_status: str = ""
    price_info: Annotated[list[PriceInfo], _NoneIsEmpty] = Field(default_factory=list)
    stock_info_v2: StockInfo | None = None


class ModelList(WireResponse):
    """``get_model_list`` answer."""

    model: Annotated[list[ModelInfo], _NoneIsEmpty] = Field(default_factory=list)


class ItemRow(WireResponse):
    """One ``get_item_list`` row."""

    item_id: int
    item_status: str = ""
    update_time: int | None = None


class ItemListPage(WireResponse):
    """``get_item_list`` answer (§4.7)."""

    item: Annotated[list[ItemRow], _NoneIsEmpty] = Field(default_factory=list)
    total_count: int = 0
    has_next_page: bool = False
    next_offset: int = 0


class SearchPage(WireResponse):
    """``search_item`` answer (§4.10); ``next_offset`` may come as a string."""

    item_id_list: Annotated[list[int], _NoneIsEmpty] = Field(default_factory=list)
    total_count: int = 0
    has_next_page: bool = False
    next_offset: Annotated[str, BeforeValidator(_number_as_text)] = ""


class ImageInfo(WireResponse):
    """An uploaded image."""

    image_id: str = Field(min_length=1)


class ImageResult(WireResponse):
    """One entry of ``image_info_list``: an image id, or that image's error."""

    id: int = 0
    error: str = ""
    message: str = ""
    image_info: ImageInfo | None = None


class UploadedImages(WireResponse):
    """``media_space/upload_image`` answer (§4.11)."""

    image_info: ImageInfo | None = None
    image_info_list: Annotated[list[ImageResult], _NoneIsEmpty] = Field(
        default_factory=list
    )


# --------------------------------------------------------------------- orders


class OrderRow(WireResponse):
    """One ``get_order_list`` row."""

    order_sn: str = Field(min_length=1)


class OrderListPage(WireResponse):
    """``get_order_list`` answer (§5.1); the cursor is opaque."""

    more: bool = False
    next_cursor: Annotated[str, BeforeValidator(_number_as_text)] = ""
    order_list: Annotated[list[OrderRow], _NoneIsEmpty] = Field(default_factory=list)


class OrderItem(WireResponse):
    """One ``item_list`` entry of an order detail (§5.2)."""

    item_id: int
    item_sku: str = ""
    model_id: int = 0
    model_sku: str = ""
    model_quantity_purchased: int = Field(ge=0)
    model_original_price: float = 0.0
    model_discounted_price: float | None = None


class OrderDetail(WireResponse):
    """One ``get_order_detail`` entry (§5.2)."""

    order_sn: str = Field(min_length=1)
    order_status: str
    create_time: int
    update_time: int
    currency: str = "IDR"
    total_amount: float | None = None
    pay_time: int | None = None
    item_list: Annotated[list[OrderItem], _NoneIsEmpty] = Field(default_factory=list)


class CancelItem(WireRequest):
    """One ``item_list`` entry of ``cancel_order``."""

    item_id: int
    model_id: int


class CancelOrderRequest(WireRequest):
    """Body of ``order/cancel_order`` (§5.5); ``item_list`` is required with
    ``OUT_OF_STOCK``."""

    order_sn: str
    cancel_reason: str
    item_list: list[CancelItem] | None = None


class CancelAnswer(WireResponse):
    """``cancel_order`` answer."""

    update_time: int | None = None


class OrderDetailList(WireResponse):
    """``get_order_detail`` answer."""

    order_list: Annotated[list[OrderDetail], _NoneIsEmpty] = Field(default_factory=list)
