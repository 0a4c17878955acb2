"""The Shopee simulator's product endpoints (§4 of the contract).

``add_item``, ``update_item``, ``delete_item``, ``unlist_item``, ``update_stock``,
``update_price``, ``get_item_list``, ``get_item_base_info``, ``get_model_list``,
``search_item``, ``get_item_limit``, ``init_tier_variation``, ``add_model``, the
category, attribute and brand fixtures (``get_category``, ``get_attributes``,
``get_attribute_tree``, ``get_brand_list``) and ``logistics/get_channel_list``.

``unlist_item`` [INF where the reference is silent]: a missing, deleted or foreign
item, a ``BANNED`` / ``REVIEWING`` one, or one with a model in a promotion (a stock
or price lock set by :meth:`set_promotion`) fails in ``failure_list`` with the
reference's description; when every entry fails the answer is
``product.error_unlist_item_all_failed`` with both lists under ``response``, as
``update_stock`` does; faults per entry are keyed ``"<item_id>"``.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Collection
from typing import Any

import httpx

from simulators.kit.faults import PageFault
from simulators.kit.routing import SimRequest
from simulators.shopee.payload import (
    json_bool,
    json_string,
    object_with_list,
)
from simulators.shopee.state import (
    CATEGORIES,
    DELETED,
    ITEM_STATUSES,
    LOGISTICS,
    TOP_LEVEL,
    ApiError,
    ApiHandler,
    Attribute,
    Category,
    Ctx,
    Item,
    Model,
    Shop,
    SimCore,
    is_number,
    to_int,
)

#: The location id of a shop without warehouses [INF].
DEFAULT_LOCATION = "IDZ"
#: Characters refused in item names (``error_title_character_forbidden``) [INF].
FORBIDDEN_NAME_CHARS = frozenset("<>{}") | frozenset(chr(c) for c in range(32))
#: ``update_item`` refuses these: price and stock have their own endpoints (§4.4).
PRICE_STOCK_FIELDS = frozenset(
    {
        "original_price",
        "price",
        "price_info",
        "current_price",
        "seller_stock",
        "stock",
        "normal_stock",
        "stock_info",
        "stock_info_v2",
    }
)
ITEM_OFFSET_CEILING = 10_000
#: ``brand`` of an item that has none.
DEFAULT_BRAND: dict[str, Any] = {"brand_id": 0, "original_brand_name": "NoBrand"}
BATCH_LIMIT = 50
#: ``dimension`` of a model whose item has none (the reference always shows one).
DEFAULT_DIMENSION: dict[str, int] = {
    "package_length": 0,
    "package_width": 0,
    "package_height": 0,
}
#: ``get_attribute_tree`` takes at most 20 categories (§4.10b).
MAX_TREE_CATEGORIES = 20
#: The brand attribute of the category fixtures ("Merek"): ``get_brand_list``
#: serves its values.
BRAND_ATTRIBUTE = 100_010
#: ``attribute_info`` codes of ``get_attribute_tree`` (the reference's
#: enumerations): SINGLE_COMBO_BOX, VALIDATOR_STRING_TYPE, FORMAT_NORMAL.
SINGLE_COMBO_BOX = 2
STRING_VALIDATION = 2
FORMAT_NORMAL = 1


def shop_locations(shop: Shop) -> list[str]:
    """The stock locations of a shop: its warehouses, or the default one."""
    return shop.warehouses or [DEFAULT_LOCATION]


def stock_info(models: list[Model]) -> dict[str, Any]:
    """``stock_info_v2`` of one model or summed over an item's models."""
    locations: dict[str, int] = {}
    for model in models:
        for location, units in model.stock.items():
            locations[location] = locations.get(location, 0) + units
    return {
        "summary_info": {
            "total_reserved_stock": sum(m.reserved_total for m in models),
            "total_available_stock": sum(m.available for m in models),
        },
        "seller_stock": [
            {"location_id": location, "stock": units}
            for location, units in sorted(locations.items())
        ],
        "shopee_stock": [],
    }


def stock_info_json(models: Collection[Model]) -> str:
    """The JSON of :func:`stock_info`, written directly (listings are read often)."""
    if len(models) == 1:
        (model,) = models
        locations = model.stock
        reserved, available = model.reserved_total, model.available
    else:
        locations = {}
        for model in models:
            for location, units in model.stock.items():
                locations[location] = locations.get(location, 0) + units
        reserved = sum(m.reserved_total for m in models)
        available = sum(m.available for m in models)
    if len(locations) == 1:  # one stock location, as most shops have
        ((location, units),) = locations.items()
        seller = f'{{"location_id":{json_string(location)},"stock":{units}}}'
    else:
        seller = ",".join(
            [
                f'{{"location_id":{json_string(location)},"stock":{units}}}'
                for location, units in sorted(locations.items())
            ]
        )
    return (
        f'{{"summary_info":{{"total_reserved_stock":{reserved},'
        f'"total_available_stock":{available}}},'
        f'"seller_stock":[{seller}],"shopee_stock":[]}}'
    )


def price_info(price: int) -> dict[str, Any]:
    """One ``price_info`` entry in rupiah."""
    return {"currency": "IDR", "original_price": price, "current_price": price}


def image_url(image_id: str) -> str:
    """The URL the simulator gives an uploaded image."""
    return f"https://cf.shopee.co.id/file/{image_id}"


def attribute_entry(
    attribute: Attribute, values: list[dict[str, Any]]
) -> dict[str, Any]:
    """An item's ``attribute_list`` entry as ``get_item_base_info`` shows it:
    ``attribute_id``, ``original_attribute_name``, ``is_mandatory`` and the values."""
    return {
        "attribute_id": attribute.attribute_id,
        "original_attribute_name": attribute.name,
        "is_mandatory": attribute.mandatory,
        "attribute_value_list": values,
    }


def weight_text(weight: float) -> str:
    """A weight in kg as the reference's samples give it: a decimal string
    (``"10.02"``, ``"1.1"``)."""
    return repr(float(weight))


def attribute_tree_entry(attribute: Attribute) -> dict[str, Any]:
    """One ``attribute_tree`` entry of ``get_attribute_tree`` for a fixture: a
    single-value combo box (a listed value or one of the seller's own, §4.1)."""
    return {
        "attribute_id": attribute.attribute_id,
        "mandatory": attribute.mandatory,
        "name": attribute.name,
        "attribute_value_list": [
            {
                "value_id": value_id,
                "name": name,
                "value_unit": "",
                "multi_lang": [{"language": "id", "value": name}],
            }
            for value_id, name in attribute.values
        ],
        "attribute_info": {
            "input_type": SINGLE_COMBO_BOX,
            "input_validation_type": STRING_VALIDATION,
            "format_type": FORMAT_NORMAL,
            "date_format_type": 0,
            "attribute_unit_list": [],
            "max_value_count": 1,
        },
        "multi_lang": [{"language": "id", "value": attribute.name}],
    }


def model_name(item: Item, model: Model) -> str:
    """A model's name: its tier options joined by commas."""
    names: list[str] = []
    for tier, index in zip(item.tier_variation, model.tier_index, strict=False):
        options = tier.get("option_list", [])
        if 0 <= index < len(options):
            names.append(str(options[index].get("option", "")))
    return ",".join(names)


class ProductsApi(SimCore):
    """Product, category and logistics-channel endpoints."""

    def product_routes(self) -> list[tuple[str, str, str, ApiHandler]]:
        """(method, path, signature kind, handler) of every product endpoint."""
        base = "/api/v2/product/"
        return [
            ("POST", base + "add_item", "shop", self._add_item),
            ("POST", base + "update_item", "shop", self._update_item),
            # The reference's sample answers delete_item with no response object.
            ("POST", base + "delete_item", "shop" + TOP_LEVEL, self._delete_item),
            ("POST", base + "unlist_item", "shop", self._unlist_item),
            ("POST", base + "update_stock", "shop", self._update_stock),
            ("POST", base + "update_price", "shop", self._update_price),
            ("GET", base + "get_item_list", "shop", self._get_item_list),
            ("GET", base + "get_item_base_info", "shop", self._get_item_base_info),
            ("GET", base + "get_model_list", "shop", self._get_model_list),
            ("GET", base + "search_item", "shop", self._search_item),
            ("GET", base + "get_item_limit", "shop", self._get_item_limit),
            ("GET", base + "get_category", "shop", self._get_category),
            ("GET", base + "get_attributes", "shop", self._get_attributes),
            ("GET", base + "get_attribute_tree", "shop", self._get_attribute_tree),
            ("GET", base + "get_brand_list", "shop", self._get_brand_list),
            ("POST", base + "init_tier_variation", "shop", self._init_tier_variation),
            ("POST", base + "add_model", "shop", self._add_model),
            (
                "GET",
                "/api/v2/logistics/get_channel_list",
                "shop",
                self._get_channel_list,
            ),
        ]

    # ------------------------------------------------------------------ helpers

    def own_item(self, ctx: Ctx, raw: object) -> Item:
        """The caller's live item ``raw``; the documented errors otherwise."""
        item_id = to_int(raw)
        if item_id is None:
            raise self.param_error(ctx, "item_id is a required integer field.")
        item = self.items.get(item_id)
        if item is None or item.item_status in DELETED:
            raise ApiError(
                self.err(ctx.module, "error_item_not_found"), "Item_id is not found."
            )
        if item.shop_id != self.shop_of(ctx).shop_id:
            raise ApiError(
                self.err(ctx.module, "error_item_not_belong_shop"),
                "Item not belong to shop.",
            )
        return item

    def set_item_status(self, item: Item, status: str) -> None:
        """Change an item's status and keep the status index right."""
        if status == item.item_status:
            return
        self.unindex_item(item)
        item.item_status = status
        self.index_item(item)
        item.update_time = self.now()

    def _set_item_sku(self, item: Item, sku: str) -> None:
        self.unindex_item(item)
        item.item_sku = sku
        if not item.has_model and 0 in item.models:
            item.models[0].model_sku = sku
        self.index_item(item)
        self.item_edited(item)

    def _limit(self, name: str, bound: str) -> int:
        return int(self.item_limits[name][bound])

    def _live_item_count(self, shop_id: int) -> int:
        return sum(
            len(self.items_by_status.get((shop_id, status), ()))
            for status in ITEM_STATUSES
            if status not in DELETED
        )

    def _category(self, ctx: Ctx, raw: object) -> Category:
        category_id = to_int(raw)
        if category_id is None:
            raise self.param_error(ctx, "category_id must be an integer.")
        category = CATEGORIES.get(category_id)
        if category is None or category.has_children:
            raise ApiError(
                self.err(ctx.module, "error_invalid_category"),
                "Invalid category: use a leaf category id.",
            )
        if category.blocked:
            raise ApiError(
                self.err(ctx.module, "error_category_is_block"),
                "This category is blocked.",
            )
        return category

    def _name(self, ctx: Ctx, raw: object) -> str:
        if not isinstance(raw, str):
            raise self.param_error(ctx, "item_name must be a string.")
        name = raw.strip()
        if not name:
            raise ApiError(
                self.err(ctx.module, "error_item_name_empty"), "Item name is empty."
            )
        low = self._limit("item_name_length_limit", "min_limit")
        high = self._limit("item_name_length_limit", "max_limit")
        if len(name) < low:
            raise ApiError(
                self.err(ctx.module, "error_item_name_is_too_short"),
                f"Item name should be at least {low} characters.",
            )
        if len(name) > high:
            raise ApiError(
                self.err(ctx.module, "error_title_exceeds_max_length"),
                f"Item name should be at most {high} characters.",
            )
        if any(char in FORBIDDEN_NAME_CHARS for char in name):
            raise ApiError(
                self.err(ctx.module, "error_title_character_forbidden"),
                "Item name contains forbidden characters.",
            )
        return name

    def _description(self, ctx: Ctx, raw: object) -> str:
        if not isinstance(raw, str):
            raise self.param_error(ctx, "description must be a string.")
        low = self._limit("item_description_length_limit", "min_limit")
        high = self._limit("item_description_length_limit", "max_limit")
        if len(raw.strip()) < low:
            raise ApiError(
                self.err(ctx.module, "error_desc_length_min_limit"),
                f"Description should be at least {low} characters.",
            )
        if len(raw) > high:
            raise self.param_error(
                ctx, f"description is longer than {high} characters."
            )
        return raw

    def check_price(self, module: str, raw: object) -> int:
        """An Indonesian price: a whole number of rupiah within the limits."""
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            raw = 0.5  # not a number: reported as a format error below
        if not float(raw).is_integer():
            raise ApiError(
                self.err(module, "error_invalid_price"),
                "Invalid price: use the correct format (whole rupiah for Indonesia).",
            )
        price = int(raw)
        low = self._limit("price_limit", "min_limit")
        high = self._limit("price_limit", "max_limit")
        if price < low:
            raise ApiError(
                self.err(module, "error_price_exceed_min_limitt"),
                f"Price should be at least {low}.",
            )
        if price > high:
            raise ApiError(
                self.err(module, "error_price_exceed_max_limitt"),
                f"Price should be at most {high}.",
            )
        return price

    def _weight(self, ctx: Ctx, raw: object) -> float:
        if not isinstance(raw, int | float) or isinstance(raw, bool) or raw <= 0:
            raise ApiError(self.err(ctx.module, "error_param"), "Invalid Weight.")
        return float(raw)

    def _dimension(
        self, ctx: Ctx, raw: object, mandatory: bool
    ) -> dict[str, int] | None:
        if raw is None:
            if mandatory:
                raise ApiError(
                    self.err(ctx.module, "error_param"), "dimension is required"
                )
            return None
        keys = ("package_length", "package_width", "package_height")
        if not isinstance(raw, dict):
            raise self.param_error(ctx, "dimension must be an object.")
        values = {key: to_int(raw.get(key)) for key in keys}
        if any(value is None or value <= 0 for value in values.values()):
            raise self.param_error(
                ctx,
                "dimension needs positive integer package_length, package_width "
                "and package_height (cm).",
            )
        return {key: int(value or 0) for key, value in values.items()}

    def _images(self, ctx: Ctx, raw: object) -> list[str]:
        ids = raw.get("image_id_list") if isinstance(raw, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise self.param_error(ctx, "image.image_id_list is a required field.")
        low = self._limit("item_image_count_limit", "min_limit")
        high = self._limit("item_image_count_limit", "max_limit")
        if not low <= len(ids) <= high:
            raise self.param_error(ctx, f"image_id_list must hold {low} to {high} ids.")
        if any(image_id not in self.images for image_id in ids):
            raise ApiError(self.err(ctx.module, "error_param"), "Image not exist.")
        return list(ids)

    def _logistics(self, ctx: Ctx, raw: object) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            raise self.param_error(ctx, "logistic_info is a required field.")
        result: list[dict[str, Any]] = []
        for entry in raw:
            logistic_id = (
                to_int(entry.get("logistic_id")) if isinstance(entry, dict) else None
            )
            if logistic_id is None or logistic_id not in LOGISTICS:
                raise self.param_error(ctx, f"logistic_id {logistic_id} is invalid.")
            assert isinstance(entry, dict)  # noqa: S101 - checked just above
            enabled = entry.get("enabled")
            if not isinstance(enabled, bool):
                raise self.param_error(ctx, "logistic_info.enabled must be a boolean.")
            result.append(
                {
                    "logistic_id": logistic_id,
                    "logistic_name": LOGISTICS[logistic_id],
                    "enabled": enabled,
                    "shipping_fee": entry.get("shipping_fee", 0),
                    "size_id": entry.get("size_id", 0),
                    "is_free": bool(entry.get("is_free", False)),
                }
            )
        if not any(entry["enabled"] for entry in result):
            raise self.param_error(
                ctx, "at least one logistic channel must be enabled."
            )
        return result

    def _attributes(
        self, ctx: Ctx, category: Category, raw: object
    ) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            raise self.param_error(
                ctx, "attribute_list is mandatory for Indonesian shops."
            )
        known = {attribute.attribute_id: attribute for attribute in category.attributes}
        result: list[dict[str, Any]] = []
        for entry in raw:
            attribute_id = (
                to_int(entry.get("attribute_id")) if isinstance(entry, dict) else None
            )
            if attribute_id is None or attribute_id not in known:
                raise self.param_error(
                    ctx,
                    f"attribute_id {attribute_id} is not an attribute of category "
                    f"{category.category_id}.",
                )
            assert isinstance(entry, dict)  # noqa: S101 - checked just above
            values = entry.get("attribute_value_list")
            if not isinstance(values, list) or not values:
                raise self.param_error(
                    ctx, f"attribute {attribute_id} needs an attribute_value_list."
                )
            allowed = {value_id for value_id, _ in known[attribute_id].values}
            clean: list[dict[str, Any]] = []
            for value in values:
                value_id = (
                    to_int(value.get("value_id", 0))
                    if isinstance(value, dict)
                    else None
                )
                if value_id is None:
                    raise self.param_error(ctx, "value_id must be an integer.")
                assert isinstance(value, dict)  # noqa: S101 - checked just above
                custom = value.get("original_value_name", "")
                if value_id == 0 and not (isinstance(custom, str) and custom):
                    raise self.param_error(
                        ctx, "a custom attribute value needs original_value_name."
                    )
                if value_id and value_id not in allowed:
                    raise self.param_error(
                        ctx,
                        f"value_id {value_id} is invalid for attribute {attribute_id}.",
                    )
                clean.append(
                    {
                        "value_id": value_id,
                        "original_value_name": custom
                        or dict(known[attribute_id].values).get(value_id, ""),
                        "value_unit": str(value.get("value_unit", "")),
                    }
                )
            result.append(attribute_entry(known[attribute_id], clean))
        given = {entry["attribute_id"] for entry in result}
        for attribute in category.attributes:
            if attribute.mandatory and attribute.attribute_id not in given:
                raise self.param_error(
                    ctx,
                    f"mandatory attribute {attribute.attribute_id} ({attribute.name}) "
                    "is missing.",
                )
        return result

    def _pre_order(self, ctx: Ctx, raw: object) -> dict[str, Any]:
        if raw is None:
            return {"is_pre_order": False, "days_to_ship": 2}
        if not isinstance(raw, dict) or not isinstance(
            raw.get("is_pre_order", False), bool
        ):
            raise self.param_error(
                ctx, "pre_order must be {is_pre_order, days_to_ship}."
            )
        pre_order = bool(raw.get("is_pre_order", False))
        days = to_int(raw.get("days_to_ship", 2))
        if days is None or days < 1:
            raise self.param_error(ctx, "days_to_ship must be a positive integer.")
        dts = self.item_limits["dts_limit"]
        high = (
            int(dts["days_to_ship_limit"]["max_limit"])
            if pre_order
            else int(dts["non_pre_order_days_to_ship"])
        )
        if days > high:
            raise ApiError(
                self.err(ctx.module, "error_param_dts_exceeds_max_limit"),
                f"days_to_ship should be at most {high}.",
            )
        return {"is_pre_order": pre_order, "days_to_ship": days}

    def _wholesale(self, ctx: Ctx, raw: object, price: int) -> list[dict[str, Any]]:
        if raw is None:
            return []
        error = ApiError(
            self.err(ctx.module, "error_whole_sale_price_setting_incorrect"),
            "Wholesale price setting is incorrect.",
        )
        if not isinstance(raw, list):
            raise error
        tiers: list[dict[str, Any]] = []
        last_max, last_price = 1, price
        for tier in raw:
            if not isinstance(tier, dict):
                raise error
            low, high = to_int(tier.get("min_count")), to_int(tier.get("max_count"))
            unit = tier.get("unit_price")
            if low is None or high is None or not is_number(unit):
                raise error
            assert isinstance(unit, int | float)  # noqa: S101 - is_number above
            if low <= last_max or high < low or not float(unit).is_integer():
                raise error
            if not 0 < unit < last_price:
                raise error
            tiers.append({"min_count": low, "max_count": high, "unit_price": int(unit)})
            last_max, last_price = high, int(unit)
        return tiers

    def _seller_stock(
        self, ctx: Ctx, raw: object, *, per_entry: bool = False
    ) -> dict[str, int]:
        """``seller_stock[]`` as {location: units}; request-level checks only."""
        shop = self.shop_of(ctx)
        if raw is None:
            return {shop_locations(shop)[0]: 0}
        if not isinstance(raw, list) or not raw:
            raise self.param_error(ctx, "seller_stock must be a non-empty list.")
        result: dict[str, int] = {}
        for entry in raw:
            units = to_int(entry.get("stock")) if isinstance(entry, dict) else None
            if units is None:
                raise self.param_error(ctx, "seller_stock.stock must be an integer.")
            assert isinstance(entry, dict)  # noqa: S101 - checked just above
            location = entry.get("location_id")
            if shop.warehouses and not location:
                raise ApiError(
                    self.err(ctx.module, "error_param"),
                    "Lack of location_id, please double check.",
                )
            key = str(location) if location else shop_locations(shop)[0]
            if key in result:
                raise self.param_error(ctx, f"location_id {key} is repeated.")
            result[key] = units
        if not per_entry:
            self._check_stock_values(ctx, result)
        return result

    def _check_stock_values(self, ctx: Ctx, stock: dict[str, int]) -> None:
        shop = self.shop_of(ctx)
        problem = self._stock_problem(shop, stock)
        if problem:
            raise self.param_error(ctx, problem)

    def _stock_problem(self, shop: Shop, stock: dict[str, int]) -> str:
        low = self._limit("stock_limit", "min_limit")
        high = self._limit("stock_limit", "max_limit")
        locations = shop_locations(shop)
        for location, units in stock.items():
            if location not in locations:
                return "Invalid stock location ID"
            if not low <= units <= high:
                return f"stock must be between {low} and {high}."
        return ""

    def _check_status(self, ctx: Ctx, raw: object) -> str:
        if raw not in ("NORMAL", "UNLIST"):
            raise self.param_error(ctx, "item_status must be NORMAL or UNLIST.")
        return str(raw)

    def _check_sku(self, ctx: Ctx, raw: object) -> str:
        if not isinstance(raw, str) or len(raw) > 100:
            raise self.param_error(
                ctx, "item_sku must be a string of at most 100 chars."
            )
        return raw

    # ------------------------------------------------------------------ output

    def item_echo(self, item: Item) -> dict[str, Any]:
        """The item as ``add_item`` / ``update_item`` echo it: the fields of the
        reference's ``add_item`` sample (``images``, ``attributes`` of attribute
        ids and values, ``price_info`` an object, weight a number)."""
        echo: dict[str, Any] = {
            "item_id": item.item_id,
            "item_status": item.item_status,
            "item_name": item.item_name,
            "description": item.description,
            "description_type": "normal",
            "category_id": item.category_id,
            "weight": item.weight,
            "images": {
                "image_id_list": list(item.image_ids),
                "image_url_list": [image_url(i) for i in item.image_ids],
            },
            "dimension": item.dimension,
            "logistic_info": item.logistic_info,
            "attributes": [
                {
                    "attribute_id": entry["attribute_id"],
                    "attribute_value_list": entry["attribute_value_list"],
                }
                for entry in item.attribute_list
            ],
            "pre_order": item.pre_order,
            "condition": item.condition,
            "brand": item.brand or DEFAULT_BRAND,
            "wholesale": item.wholesale,
            "item_dangerous": item.item_dangerous,
        }
        if not item.has_model:
            model = item.models[0]
            echo["price_info"] = {
                "current_price": model.price,
                "original_price": model.price,
            }
            echo["seller_stock"] = [
                {"location_id": location, "stock": units}
                for location, units in sorted(model.stock.items())
            ]
        return echo

    def item_json(self, item: Item) -> bytes:
        """One entry of ``get_item_base_info``, as JSON."""
        nested = self.nested_json.text
        images, models, has_model = item.image_ids, item.models, item.has_model
        price = ""
        if not has_model:  # [{"currency": "IDR", "original_price", "current_price"}]
            units = models[0].price
            price = (
                f',"price_info":[{{"currency":"IDR","original_price":{units},'
                f'"current_price":{units}}}]'
            )
        if len(images) == 1:  # as seeded listings have
            image_ids = json_string(images[0])
            urls = json_string(image_url(images[0]))
        else:
            image_ids = ",".join(map(json_string, images))
            urls = ",".join([json_string(image_url(image)) for image in images])
        text = (
            f'{{"item_id":{item.item_id},"category_id":{item.category_id},'
            f'"item_name":{json_string(item.item_name)},'
            f'"description":{json_string(item.description)},'
            f'"description_type":"normal","item_sku":{json_string(item.item_sku)},'
            f'"create_time":{item.create_time},"update_time":{item.update_time},'
            f'"attribute_list":{nested(item.attribute_list)},'
            f'"image":{{"image_id_list":[{image_ids}],"image_url_list":[{urls}]}},'
            f'"weight":{json_string(weight_text(item.weight))},'
            f'"dimension":{nested(item.dimension)},'
            f'"logistic_info":{nested(item.logistic_info)},'
            f'"pre_order":{nested(item.pre_order)},'
            f'"wholesales":{nested(item.wholesale)},'
            f'"condition":{json_string(item.condition)},'
            f'"item_status":{json_string(item.item_status)},"deboost":false,'
            f'"has_model":{json_bool(has_model)},"promotion_id":0,'
            f'"brand":{nested(item.brand or DEFAULT_BRAND)},'
            f'"item_dangerous":{item.item_dangerous},'
            f'"gtin_code":{json_string(item.gtin_code)},'
            f'"stock_info_v2":{stock_info_json(models.values())}{price}}}'
        )
        return text.encode()

    def item_fragment(self, item: Item) -> bytes:
        """:meth:`item_json`, rendered again only when the listing changes.

        The signature holds what stock, price, order and status changes move (they
        may leave ``update_time`` as it was on a frozen clock); edits of the listing
        itself (``update_item``, variations) forget the fragment instead
        (:meth:`item_edited`).
        """
        # Flat tuples of numbers and strings (no pairs from ``stock.items()``): the
        # garbage collector stops tracking them, so kept entries cost it nothing.
        models = item.models
        if len(models) == 1:  # an item without variants: its model 0
            (model,) = models.values()
            stock = model.stock
            signature: tuple[object, ...] = (
                item.update_time,
                item.item_status,
                model.price,
                model.reserved,
                model.promo_reserved,
                *stock.keys(),
                *stock.values(),
            )
        else:
            signature = (
                item.update_time,
                item.item_status,
                *[
                    (
                        m.price,
                        m.reserved,
                        m.promo_reserved,
                        *m.stock.keys(),
                        *m.stock.values(),
                    )
                    for m in models.values()
                ],
            )
        return self.item_fragments.get(item.item_id, signature, self.item_json, item)

    def item_edited(self, item: Item) -> None:
        """The listing's own fields changed: render its fragment afresh."""
        self.item_fragments.discard(item.item_id)

    def model_info(self, item: Item, model: Model) -> dict[str, Any]:
        """One entry of ``get_model_list``."""
        promoted = model.stock_locked or model.price_locked
        return {
            "model_id": model.model_id,
            "tier_index": list(model.tier_index),
            "promotion_id": 0,
            "has_promotion": promoted,
            "model_sku": model.model_sku,
            "model_status": model.status,
            "price_info": [price_info(model.price)],
            "stock_info_v2": stock_info([model]),
            "pre_order": item.pre_order,
            "gtin_code": item.gtin_code,
            "weight": weight_text(item.weight),
            "dimension": item.dimension or DEFAULT_DIMENSION,
            "is_fulfillment_by_shopee": False,
        }

    # ------------------------------------------------------------------ create

    def _add_item(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        shop = self.shop_of(ctx)
        required = ["item_name", "description", "category_id", "original_price"]
        required += ["image", "logistic_info"]
        if self.item_limits["weight_limit"].get("weight_mandatory", True):
            required.append("weight")
        for name in required:
            if data.get(name) is None:
                raise self.param_error(ctx, f"{name} is a required field.")
        category = self._category(ctx, data["category_id"])
        name = self._name(ctx, data["item_name"])
        description = self._description(ctx, data["description"])
        price = self.check_price(ctx.module, data["original_price"])
        weight = self._weight(ctx, data["weight"]) if "weight" in data else 0.0
        mandatory = category.dimension_mandatory or bool(
            self.item_limits["dimension_limit"].get("dimension_mandatory")
        )
        dimension = self._dimension(ctx, data.get("dimension"), mandatory)
        images = self._images(ctx, data["image"])
        logistics = self._logistics(ctx, data["logistic_info"])
        attributes = self._attributes(ctx, category, data.get("attribute_list"))
        status = self._check_status(ctx, data.get("item_status", "NORMAL"))
        sku = self._check_sku(ctx, data.get("item_sku", ""))
        condition = data.get("condition", "NEW")
        if condition not in ("NEW", "USED"):
            raise self.param_error(ctx, "condition must be NEW or USED.")
        pre_order = self._pre_order(ctx, data.get("pre_order"))
        wholesale = self._wholesale(ctx, data.get("wholesale"), price)
        stock = self._seller_stock(ctx, data.get("seller_stock"))
        brand = data.get("brand")
        if brand is not None and (
            not isinstance(brand, dict) or to_int(brand.get("brand_id", 0)) is None
        ):
            raise self.param_error(
                ctx, "brand must be {brand_id, original_brand_name}."
            )
        gtin = data.get("gtin_code", "")
        if not isinstance(gtin, str):
            raise self.param_error(ctx, "gtin_code must be a string.")
        dangerous = to_int(data.get("item_dangerous", 0))
        if dangerous not in (0, 1):
            raise self.param_error(ctx, "item_dangerous must be 0 or 1.")
        if self._live_item_count(shop.shop_id) >= self._limit(
            "item_count_limit", "max_limit"
        ):
            raise ApiError(
                self.err(ctx.module, "error_reach_shop_item_limit"),
                "The shop has reached its item count limit.",
            )
        now = self.now()
        item = Item(
            item_id=self.next_id("item"),
            shop_id=shop.shop_id,
            item_name=name,
            description=description,
            category_id=category.category_id,
            item_sku=sku,
            item_status=status,
            weight=weight,
            image_ids=images,
            logistic_info=logistics,
            attribute_list=attributes,
            create_time=now,
            update_time=now,
            models={0: Model(0, sku, price, stock)},
            dimension=dimension,
            condition=str(condition),
            brand=dict(brand) if isinstance(brand, dict) else None,
            pre_order=pre_order,
            wholesale=wholesale,
            gtin_code=gtin,
            item_dangerous=dangerous or 0,
        )
        self.items[item.item_id] = item
        self.index_item(item)
        return self.item_echo(item)

    # ------------------------------------------------------------------ update

    def _update_item(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        refused = sorted(PRICE_STOCK_FIELDS & data.keys())
        if refused:
            raise self.param_error(
                ctx,
                f"{', '.join(refused)} cannot be changed by update_item; use "
                "update_price and update_stock.",
            )
        item = self.own_item(ctx, data.get("item_id"))
        category = CATEGORIES[item.category_id]
        changes: dict[str, Any] = {}
        if "category_id" in data:
            category = self._category(ctx, data["category_id"])
            changes["category_id"] = category.category_id
        if "item_name" in data:
            changes["item_name"] = self._name(ctx, data["item_name"])
        if "description" in data:
            changes["description"] = self._description(ctx, data["description"])
        if "weight" in data:
            changes["weight"] = self._weight(ctx, data["weight"])
        mandatory = category.dimension_mandatory or bool(
            self.item_limits["dimension_limit"].get("dimension_mandatory")
        )
        if "dimension" in data or (mandatory and item.dimension is None):
            changes["dimension"] = self._dimension(
                ctx, data.get("dimension"), mandatory
            )
        if "image" in data:
            changes["image_ids"] = self._images(ctx, data["image"])
        if "logistic_info" in data:
            changes["logistic_info"] = self._logistics(ctx, data["logistic_info"])
        if "attribute_list" in data or "category_id" in data:
            changes["attribute_list"] = self._attributes(
                ctx, category, data.get("attribute_list", item.attribute_list)
            )
        if "condition" in data:
            if data["condition"] not in ("NEW", "USED"):
                raise self.param_error(ctx, "condition must be NEW or USED.")
            changes["condition"] = data["condition"]
        if "pre_order" in data:
            changes["pre_order"] = self._pre_order(ctx, data["pre_order"])
        if "wholesale" in data:
            prices = {model.price for model in item.models.values()}
            changes["wholesale"] = self._wholesale(ctx, data["wholesale"], min(prices))
        if "brand" in data:
            brand = data["brand"]
            if not isinstance(brand, dict):
                raise self.param_error(ctx, "brand must be an object.")
            changes["brand"] = dict(brand)
        if "gtin_code" in data:
            if not isinstance(data["gtin_code"], str):
                raise self.param_error(ctx, "gtin_code must be a string.")
            changes["gtin_code"] = data["gtin_code"]
        status = (
            self._check_status(ctx, data["item_status"])
            if "item_status" in data
            else None
        )
        sku = self._check_sku(ctx, data["item_sku"]) if "item_sku" in data else None
        if status is not None and item.item_status not in ("NORMAL", "UNLIST"):
            raise self.param_error(
                ctx,
                f"an item in status {item.item_status} cannot be listed or unlisted.",
            )
        for key, value in changes.items():
            setattr(item, key, value)
        if "image_ids" in changes:  # order details show an item's first image
            self.order_fragments.clear()
        if sku is not None and sku != item.item_sku:
            self._set_item_sku(item, sku)
        if status is not None:
            self.set_item_status(item, status)
        item.update_time = self.now()
        self.item_edited(item)
        return self.item_echo(item)

    def _delete_item(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        item = self.own_item(ctx, data.get("item_id"))
        self.set_item_status(item, "SELLER_DELETE")
        return {"warning": ""}

    def _unlist_item(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        """§4.10a: take items off sale (``unlist: true``) or back (``false``), 1-50
        per call; per-item outcomes in ``success_list`` / ``failure_list``."""
        data = self.body(ctx, req)
        rows = data.get("item_list")
        if rows is None:
            raise ApiError(
                self.err(ctx.module, "error_param"),
                "invalid field ItemList: value must  Not Null",
            )
        if not isinstance(rows, list) or not 1 <= len(rows) <= BATCH_LIMIT:
            raise self.param_error(
                ctx, f"item_list length should be between 1 and {BATCH_LIMIT}."
            )
        parsed: list[tuple[int, bool]] = []
        for entry in rows:
            item_id = to_int(entry.get("item_id")) if isinstance(entry, dict) else None
            unlist = entry.get("unlist") if isinstance(entry, dict) else None
            if item_id is None or not isinstance(unlist, bool):
                raise self.param_error(
                    ctx, "each item_list entry needs item_id and a boolean unlist."
                )
            parsed.append((item_id, unlist))
        shop_id = self.shop_of(ctx).shop_id
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        for item_id, unlist in parsed:
            item = self.items.get(item_id)
            reason = self._unlist_failure(item, shop_id, item_id)
            if reason:
                failure.append({"item_id": item_id, "failed_reason": reason})
                continue
            assert item is not None  # noqa: S101 - no reason means an item
            self.set_item_status(item, "UNLIST" if unlist else "NORMAL")
            success.append({"item_id": item_id, "unlist": unlist})
        if not success:
            raise ApiError(
                self.err(ctx.module, "error_unlist_item_all_failed"),
                "Unlist item all failed.",
                response={"failure_list": failure, "success_list": []},
            )
        return {"failure_list": failure, "success_list": success}

    def _unlist_failure(self, item: Item | None, shop_id: int, item_id: int) -> str:
        """Why one ``unlist_item`` entry fails ("" when it does not): the
        reference's error descriptions, the promotion one as its sample words it."""
        if item is None or item.item_status in DELETED:
            return "Product not found"
        if item.shop_id != shop_id:
            return "Item not belong to shop."
        planned = self.faults.item_failure("product.unlist_item", str(item_id))
        if planned is not None:
            return planned or "Unlist item failed. please try later."
        if item.item_status in ("BANNED", "REVIEWING"):
            return "Banned and Reviewing Products cannot be delisted"
        if any(m.stock_locked or m.price_locked for m in item.models.values()):
            return "Can't unlist item when item is under promotion"
        return ""

    def _batch(
        self, ctx: Ctx, data: dict[str, Any], list_name: str
    ) -> tuple[Item, list[tuple[int, dict[str, Any]]]]:
        """The item and its (model_id, entry) rows, with the request-level checks."""
        rows = data.get(list_name)
        if not isinstance(rows, list) or not 1 <= len(rows) <= BATCH_LIMIT:
            raise self.param_error(
                ctx, f"{list_name} length should be between 1 and {BATCH_LIMIT}."
            )
        item = self.own_item(ctx, data.get("item_id"))
        parsed: list[tuple[int, dict[str, Any]]] = []
        seen: set[int] = set()
        for entry in rows:
            model_id = (
                to_int(entry.get("model_id", 0)) if isinstance(entry, dict) else None
            )
            if model_id is None:
                raise self.param_error(ctx, "model_id must be an integer.")
            assert isinstance(entry, dict)  # noqa: S101 - checked just above
            if model_id in seen:
                raise ApiError(self.err(ctx.module, "error_param"), "Repeat model_id.")
            seen.add(model_id)
            parsed.append((model_id, entry))
        return item, parsed

    def _model_of(self, item: Item, model_id: int) -> Model | None:
        model = item.models.get(model_id)
        if model is None or (item.has_model and model_id == 0):
            return None
        return model

    def _update_stock(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        shop = self.shop_of(ctx)
        item, rows = self._batch(ctx, data, "stock_list")
        if shop.fbs:
            raise ApiError(
                self.err(ctx.module, "error_wms_shop_block_upate_stock"),
                "Warehouse shop can't update stock.",
            )
        if shop.holiday_mode:
            raise ApiError(
                self.err(ctx.module, "error_holiday_mode_change_stock"),
                "Cannot change stock in holiday mode.",
            )
        if any(entry.get("seller_stock") is None for _, entry in rows):
            raise self.param_error(ctx, "seller_stock is a required field.")
        parsed = [
            (
                model_id,
                self._seller_stock(ctx, entry.get("seller_stock"), per_entry=True),
            )
            for model_id, entry in rows
        ]
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        for model_id, stock in parsed:
            model = self._model_of(item, model_id)
            reason = self._stock_failure(ctx, shop, item, model, model_id, stock)
            if reason:
                failure.append({"model_id": model_id, "failed_reason": reason})
                continue
            assert model is not None  # noqa: S101 - no reason means a model
            model.stock.update(stock)
            success.extend(
                {"model_id": model_id, "location_id": location, "stock": units}
                for location, units in stock.items()
            )
        if not success:
            raise ApiError(
                self.err(ctx.module, "error_busi_update_stock_failed"),
                "Update stock failed, please check failure_list for detailed reason",
                response={"success_list": [], "failure_list": failure},
            )
        item.update_time = self.now()
        return {"success_list": success, "failure_list": failure}

    def _stock_failure(
        self,
        ctx: Ctx,
        shop: Shop,
        item: Item,
        model: Model | None,
        model_id: int,
        stock: dict[str, int],
    ) -> str:
        if model is None:
            return "Wrong model_id."
        planned = self.faults.item_failure(ctx.endpoint, f"{item.item_id}:{model_id}")
        if planned is not None:
            return planned or "System error, please try again later."
        problem = self._stock_problem(shop, stock)
        if problem:
            return problem
        if model.stock_locked:
            return (
                "error_cannt_edit_stock_in_promotion: Normal_stock cannot be edited "
                "when item is under promotion."
            )
        total = sum({**model.stock, **stock}.values())
        if total < model.reserved_total:
            return "Total stock must be more than reserved stock."
        return ""

    def _update_price(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        item, rows = self._batch(ctx, data, "price_list")
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        for model_id, entry in rows:
            model = self._model_of(item, model_id)
            try:
                price = self._price_row(ctx, item, model, model_id, entry)
            except ApiError as exc:
                failure.append({"model_id": model_id, "failed_reason": exc.message})
                continue
            assert model is not None  # noqa: S101 - _price_row refuses None
            model.price = price
            success.append({"model_id": model_id, "original_price": price})
        if success:
            item.update_time = self.now()
        return {"success_list": success, "failure_list": failure}

    def _price_row(
        self,
        ctx: Ctx,
        item: Item,
        model: Model | None,
        model_id: int,
        entry: dict[str, Any],
    ) -> int:
        if model is None:
            raise ApiError("", "Wrong model_id.")
        planned = self.faults.item_failure(ctx.endpoint, f"{item.item_id}:{model_id}")
        if planned is not None:
            raise ApiError("", planned or "System error, please try again later.")
        if model.price_locked:
            raise ApiError(
                "",
                "error_cannot_update_price_in_promotion: the price cannot be changed "
                "while the item is in a promotion.",
            )
        try:
            price = self.check_price(ctx.module, entry.get("original_price"))
        except ApiError as exc:
            raise ApiError(
                "", f"{exc.error.rsplit('.', 1)[-1]}: {exc.message}"
            ) from None
        if item.wholesale:
            if price <= max(tier["unit_price"] for tier in item.wholesale):
                raise ApiError(
                    "",
                    "error_busi_price_lower_then_wholesale_price: the price must be "
                    "above every wholesale unit price.",
                )
            others = {m.price for i, m in item.models.items() if i != model_id}
            if item.has_model and others and others != {price}:
                raise ApiError(
                    "",
                    "error_price_should_be_same_for_wholesales: models of an item "
                    "with wholesale tiers must share one price.",
                )
        return price

    # ------------------------------------------------------------------ read

    def _statuses(self, ctx: Ctx, req: SimRequest, *, required: bool) -> list[str]:
        values: list[str] = []
        for raw in req.query.get_list("item_status"):
            values.extend(part for part in raw.split(",") if part)
        if not values:
            if required:
                raise self.param_error(ctx, "item_status is a required field.")
            return [s for s in ITEM_STATUSES if s not in DELETED]
        unknown = [value for value in values if value not in ITEM_STATUSES]
        if unknown:
            raise self.param_error(ctx, f"item_status {unknown[0]} is invalid.")
        return list(dict.fromkeys(values))

    def _page_size(self, ctx: Ctx, raw: str | None, default: int) -> int:
        size = default if raw in (None, "") else to_int(raw)
        if size is None or not 1 <= size <= 100:
            raise self.param_error(ctx, "page_size should be between 1 and 100.")
        return size

    def _get_item_list(self, ctx: Ctx, req: SimRequest) -> httpx.Response:
        query = req.query
        shop = self.shop_of(ctx)
        self.require_params(ctx, req, ("offset", "Offset"), ("page_size", "PageSize"))
        statuses = self._statuses(ctx, req, required=True)
        offset = to_int(query.get("offset"))
        if offset is None or offset < 0:
            raise self.param_error(ctx, "offset must be a non-negative integer.")
        size = self._page_size(ctx, query.get("page_size"), 10)
        if offset + size > ITEM_OFFSET_CEILING:
            raise ApiError(
                self.err(ctx.module, "error_param"),
                "get items offset over limit, please use the next field",
            )
        bounds = [query.get("update_time_from"), query.get("update_time_to")]
        low, high = (to_int(b) if b else None for b in bounds)
        lists = [self.items_by_status.get((shop.shop_id, s), []) for s in statuses]
        ids: Any = heapq.merge(*lists)
        if low is not None or high is not None:
            matching = [
                item_id
                for item_id in ids
                if (low is None or self.items[item_id].update_time >= low)
                and (high is None or self.items[item_id].update_time <= high)
            ]
            total, page = len(matching), matching[offset : offset + size]
        else:
            total = sum(len(values) for values in lists)
            if len(lists) == 1:  # one status: its sorted ids, no merging to skip
                page = lists[0][offset : offset + size]
            else:
                page = list(itertools.islice(ids, offset, offset + size))
        next_offset = offset + len(page)
        more = next_offset < total
        fault = (
            self.faults.page_fault(ctx.endpoint, first=offset == 0) if page else None
        )
        if fault is PageFault.EMPTY:  # nothing, and go on from where it should start
            page, next_offset, more = [], offset, True
        elif fault is PageFault.REPEAT:  # this page again
            next_offset, more = offset, True
        elif fault is PageFault.SHIFT and len(page) > 1:  # the last row again
            next_offset, more = next_offset - 1, True
        items = self.items
        rows = [
            # {"item_id", "item_status", "update_time", "tag": {"kit": false}}
            f'{{"item_id":{item_id},"item_status":{json_string(item.item_status)},'
            f'"update_time":{item.update_time},"tag":{{"kit":false}}}}'.encode()
            for item_id, item in ((i, items[i]) for i in page)
        ]
        after = {
            "total_count": total,
            "has_next_page": more,
            "next_offset": next_offset,
        }
        return self.ok_encoded(object_with_list({}, "item", rows, after))

    def _id_list(self, ctx: Ctx, req: SimRequest, name: str) -> list[int]:
        ids: list[int] = []
        for raw in req.query.get_list(name):
            if raw.isascii() and raw.replace(",", "").isdigit():  # plain ids
                ids.extend([int(part) for part in raw.split(",") if part])
                continue
            for part in raw.split(","):
                if not part.strip():
                    continue
                value = to_int(part)
                if value is None:
                    raise self.param_error(ctx, f"{name} must hold integers.")
                ids.append(value)
        if not 1 <= len(ids) <= BATCH_LIMIT:
            raise self.param_error(
                ctx, f"{name} should hold between 1 and {BATCH_LIMIT} ids."
            )
        return ids

    def _visible(self, ctx: Ctx, item_id: int) -> Item | None:
        item = self.items.get(item_id)
        if item is None or item.shop_id != self.shop_of(ctx).shop_id:
            return None
        return item

    def _get_item_base_info(self, ctx: Ctx, req: SimRequest) -> httpx.Response:
        ids = self._id_list(ctx, req, "item_id_list")
        shop_id = self.shop_of(ctx).shop_id
        found = (self.items.get(item_id) for item_id in ids)
        fragments = [
            self.item_fragment(item)
            for item in found
            if item is not None and item.shop_id == shop_id
        ]
        return self.ok_encoded(object_with_list({}, "item_list", fragments, {}))

    def _get_model_list(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        item_id = to_int(req.query.get("item_id", ""))
        if item_id is None:
            raise self.param_error(ctx, "item_id is a required field.")
        item = self._visible(ctx, item_id)
        if item is None:
            raise ApiError(
                self.err(ctx.module, "error_item_not_found"), "Item_id is not found."
            )
        if not item.has_model:
            return {"tier_variation": [], "model": []}
        return {
            "tier_variation": item.tier_variation,
            "model": [self.model_info(item, model) for model in item.models.values()],
        }

    def _search_item(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        query = req.query
        shop = self.shop_of(ctx)
        sku, name = query.get("item_sku", ""), query.get("item_name", "")
        attribute_status = query.get("attribute_status", "")
        if not (sku or name or attribute_status):
            raise self.param_error(
                ctx, "request must set one of [item_name,attribute_status,item_sku]"
            )
        size = self._page_size(ctx, query.get("page_size"), 100)
        offset = to_int(query.get("offset") or "0")
        if offset is None or offset < 0:
            raise self.param_error(ctx, "offset is invalid.")
        statuses = set(self._statuses(ctx, req, required=False))
        if sku:
            candidates: list[int] = list(self.items_by_sku.get((shop.shop_id, sku), []))
        else:
            candidates = sorted(
                item_id
                for status in statuses
                for item_id in self.items_by_status.get((shop.shop_id, status), [])
            )
        needle = name.lower()
        matched = [
            item_id
            for item_id in candidates
            if self.items[item_id].item_status in statuses
            and (not name or sku or needle in self.items[item_id].item_name.lower())
            and self._attribute_match(self.items[item_id], attribute_status)
        ]
        page = matched[offset : offset + size]
        more = offset + len(page) < len(matched)
        # The reference's sample and fields: no has_next_page; next_offset a string.
        return {
            "item_id_list": page,
            "total_count": len(matched),
            "next_offset": str(offset + len(page)) if more else "",
        }

    def _attribute_match(self, item: Item, attribute_status: str) -> bool:
        if attribute_status not in ("1", "2"):
            return True
        category = CATEGORIES[item.category_id]
        given = {entry["attribute_id"] for entry in item.attribute_list}
        wanted_mandatory = attribute_status == "1"
        return any(
            attribute.mandatory == wanted_mandatory
            and attribute.attribute_id not in given
            for attribute in category.attributes
        )

    def _get_item_limit(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        limits: dict[str, Any] = json.loads(json.dumps(self.item_limits))
        raw = req.query.get("category_id")
        if raw:
            category = self._category(ctx, raw)
            if category.dimension_mandatory:
                limits["dimension_limit"] = {"dimension_mandatory": True}
        return limits

    def _get_category(self, _ctx: Ctx, _req: SimRequest) -> dict[str, Any]:
        return {
            "category_list": [
                {
                    "category_id": c.category_id,
                    "parent_category_id": c.parent_category_id,
                    "original_category_name": c.name,
                    "display_category_name": c.name,
                    "has_children": c.has_children,
                }
                for c in CATEGORIES.values()
                if not c.blocked
            ]
        }

    def _get_attributes(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        category = self._category(ctx, req.query.get("category_id", ""))
        return {
            "attribute_list": [
                {
                    "attribute_id": a.attribute_id,
                    "original_attribute_name": a.name,
                    "display_attribute_name": a.name,
                    "is_mandatory": a.mandatory,
                    "input_type": "COMBO_BOX",
                    "attribute_value_list": [
                        {
                            "value_id": value_id,
                            "original_value_name": value_name,
                            "display_value_name": value_name,
                        }
                        for value_id, value_name in a.values
                    ],
                }
                for a in category.attributes
            ]
        }

    def _get_attribute_tree(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        """§4.10b: the attributes of up to 20 categories (``category_id_list``,
        comma-joined or repeated; the reference's request sample names it
        ``category_ids``), from the category fixtures."""
        raw = req.query.get_list("category_id_list") or req.query.get_list(
            "category_ids"
        )
        parts = [part for value in raw for part in value.split(",") if part.strip()]
        if not parts:
            raise ApiError(
                self.err(ctx.module, "error_param"),
                "invalid field CategoryIdList: value must  Not Null",
            )
        if len(parts) > MAX_TREE_CATEGORIES:
            raise self.param_error(
                ctx, f"category_id_list holds at most {MAX_TREE_CATEGORIES} ids."
            )
        found: list[Category] = []
        for part in parts:
            category_id = to_int(part)
            category = CATEGORIES.get(category_id) if category_id is not None else None
            if category is None:
                raise ApiError(
                    self.err(ctx.module, "error_invalid_category"),
                    f"Invalid category ID {part.strip()}",
                )
            found.append(category)
        return {
            "list": [
                {
                    "category_id": category.category_id,
                    "attribute_tree": [
                        attribute_tree_entry(a) for a in category.attributes
                    ],
                }
                for category in found
            ]
        }

    def _get_brand_list(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        """§4.10b: a leaf category's brands, the values of its brand attribute
        (``Merek``) in the fixtures; no pending brands (``status=2``)."""
        self.require_params(
            ctx,
            req,
            ("offset", "Offset"),
            ("page_size", "PageSize"),
            ("category_id", "CategoryId"),
            ("status", "Status"),
        )
        query = req.query
        offset = to_int(query.get("offset"))
        if offset is None or offset < 0:
            raise self.param_error(ctx, "offset must be a non-negative integer.")
        size = self._page_size(ctx, query.get("page_size"), 10)
        status = to_int(query.get("status"))
        if status not in (1, 2):
            raise self.param_error(ctx, "status should be 1 (normal) or 2 (pending).")
        category = self._category(ctx, query.get("category_id"))
        brand = next(
            (a for a in category.attributes if a.attribute_id == BRAND_ATTRIBUTE),
            None,
        )
        brands = (
            [(value_id, name) for value_id, name in brand.values if value_id]
            if brand is not None and status == 1
            else []
        )
        page = brands[offset : offset + size]
        following = offset + len(page)
        return {
            "brand_list": [
                {
                    "brand_id": brand_id,
                    "original_brand_name": name,
                    "display_brand_name": name,
                }
                for brand_id, name in page
            ],
            "has_next_page": following < len(brands),
            "next_offset": following,
            "is_mandatory": brand.mandatory if brand is not None else False,
            "input_type": "DROP_DOWN",
        }

    def _get_channel_list(self, _ctx: Ctx, _req: SimRequest) -> dict[str, Any]:
        return {
            "logistics_channel_list": [
                {
                    "logistics_channel_id": logistic_id,
                    "logistics_channel_name": name,
                    "enabled": True,
                    "cod_enabled": True,
                    "fee_type": "SIZE_INPUT",
                    "size_list": [],
                    "weight_limit": {"item_max_weight": 50, "item_min_weight": 0},
                    "item_max_dimension": {
                        "dimension_sum": 0,
                        "height": 150,
                        "length": 150,
                        "unit": "cm",
                        "width": 150,
                    },
                    "volume_limit": {"item_max_volume": 0, "item_min_volume": 0},
                    "logistics_description": "",
                    "force_enable": False,
                    "mask_channel_id": 0,
                    "block_seller_cover_shipping_fee": False,
                    "support_cross_border": False,
                    "seller_logistic_has_configuration": None,
                    "logistics_capability": {"seller_logistics": False},
                }
                for logistic_id, name in LOGISTICS.items()
            ]
        }

    # ------------------------------------------------------------------ variants

    def _tiers(self, ctx: Ctx, raw: object) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not 1 <= len(raw) <= 2:
            raise self.param_error(ctx, "tier_variation must hold 1 or 2 tiers.")
        name_low = self._limit("tier_variation_name_length_limit", "min_limit")
        name_high = self._limit("tier_variation_name_length_limit", "max_limit")
        option_low = self._limit("tier_variation_option_length_limit", "min_limit")
        option_high = self._limit("tier_variation_option_length_limit", "max_limit")
        tiers: list[dict[str, Any]] = []
        for tier in raw:
            name = tier.get("name") if isinstance(tier, dict) else None
            options = tier.get("option_list") if isinstance(tier, dict) else None
            if not isinstance(name, str) or not name_low <= len(name) <= name_high:
                raise self.param_error(
                    ctx, f"tier name length must be {name_low} to {name_high}."
                )
            if not isinstance(options, list) or not options:
                raise self.param_error(ctx, "option_list must not be empty.")
            texts: list[str] = []
            for option in options:
                text = option.get("option") if isinstance(option, dict) else None
                if not isinstance(text, str) or not (
                    option_low <= len(text) <= option_high
                ):
                    raise self.param_error(
                        ctx, f"option length must be {option_low} to {option_high}."
                    )
                texts.append(text)
            if len(set(texts)) != len(texts):
                raise self.param_error(ctx, "options of a tier must be unique.")
            tiers.append({"name": name, "option_list": [{"option": t} for t in texts]})
        return tiers

    def _new_models(
        self,
        ctx: Ctx,
        tiers: list[dict[str, Any]],
        raw: object,
        taken: set[tuple[int, ...]],
    ) -> list[Model]:
        if not isinstance(raw, list) or not raw:
            raise self.param_error(ctx, "the model list must not be empty.")
        models: list[Model] = []
        for entry in raw:
            index = entry.get("tier_index") if isinstance(entry, dict) else None
            if (
                not isinstance(index, list)
                or len(index) != len(tiers)
                or not all(
                    isinstance(i, int) and not isinstance(i, bool) for i in index
                )
                or not all(
                    0 <= i < len(tier["option_list"])
                    for i, tier in zip(index, tiers, strict=True)
                )
            ):
                raise self.param_error(ctx, "tier_index does not match tier_variation.")
            assert isinstance(entry, dict)  # noqa: S101 - checked just above
            combination = tuple(index)
            if combination in taken:
                raise self.param_error(ctx, f"tier_index {index} is repeated.")
            taken.add(combination)
            price = self.check_price(ctx.module, entry.get("original_price"))
            sku = entry.get("model_sku", "")
            if not isinstance(sku, str) or len(sku) >= 100:
                raise self.param_error(ctx, "model_sku must be under 100 characters.")
            stock = self._seller_stock(ctx, entry.get("seller_stock"))
            models.append(Model(self.next_id("model"), sku, price, stock, list(index)))
        return models

    def _init_tier_variation(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        item = self.own_item(ctx, data.get("item_id"))
        if item.has_model:
            raise self.param_error(ctx, "the item already has tier variations.")
        if item.models[0].reserved:
            raise self.param_error(ctx, "the item has reserved stock in open orders.")
        tiers = self._tiers(ctx, data.get("tier_variation"))
        models = self._new_models(ctx, tiers, data.get("model"), set())
        item.tier_variation = tiers
        item.models = {model.model_id: model for model in models}
        item.update_time = self.now()
        self.item_edited(item)
        return {
            "item_id": item.item_id,
            "tier_variation": tiers,
            "model": [self._model_echo(item, model) for model in models],
        }

    def _add_model(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        item = self.own_item(ctx, data.get("item_id"))
        if not item.has_model:
            raise self.param_error(ctx, "call init_tier_variation first.")
        taken = {tuple(model.tier_index) for model in item.models.values()}
        models = self._new_models(
            ctx, item.tier_variation, data.get("model_list"), taken
        )
        for model in models:
            item.models[model.model_id] = model
        item.update_time = self.now()
        self.item_edited(item)
        return {"model": [self._model_echo(item, model) for model in models]}

    def _model_echo(self, item: Item, model: Model) -> dict[str, Any]:
        """A model as ``init_tier_variation`` and ``add_model`` answer it (their
        reference fields: the price under ``price_info``, weight a number)."""
        return {
            "tier_index": list(model.tier_index),
            "model_id": model.model_id,
            "model_sku": model.model_sku,
            "price_info": [{"original_price": model.price}],
            "seller_stock": [
                {"location_id": location, "stock": units}
                for location, units in sorted(model.stock.items())
            ],
            "weight": item.weight,
            "dimension": item.dimension or DEFAULT_DIMENSION,
        }
