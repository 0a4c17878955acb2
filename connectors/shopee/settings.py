"""The Shopee connector's own settings: the ``options`` of ``[marketplaces.shopee]``.

Credentials are not settings: the partner key comes from the account's credential set
(``partner_key``), tokens from the token store. Everything here is non-secret.

What ``add_item`` needs that the canonical catalogue does not carry comes from here:

* ``categories`` / ``default_category``: Shopee's ``category_id`` is a leaf of Shopee's
  own tree and Indonesian shops must send a non-empty ``attribute_list`` (shopee.md
  §4.1) whose mandatory attributes depend on the category; the catalogue only holds a
  free-text category such as ``"Makanan & Minuman > Kopi"``. Each entry names the
  category id and the attribute values to send for it. Keys are matched ignoring case
  and runs of white space. There is no default: a draft whose category is not mapped
  (and no ``default_category`` is set) is refused before anything is sent.
* ``logistics``: ``logistic_info`` is required and names the shop's logistics
  channels; the catalogue knows nothing of them. Default: none, so creates are
  refused until channels are configured.
* ``brand``, ``days_to_ship``: optional; omitted from ``add_item`` when unset.
* ``location_id``: the stock location sent with every ``seller_stock`` entry;
  multi-warehouse shops must set it ("Lack of location_id"), others leave it unset.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_SPACES = re.compile(r"\s+")


def category_key(text: str) -> str:
    """How canonical category texts are compared: case and white space ignored."""
    return _SPACES.sub(" ", text).strip().casefold()


class _Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributeValueChoice(_Option):
    """One attribute value: a Shopee ``value_id``, or 0 with a custom name."""

    value_id: int = Field(default=0, ge=0)
    original_value_name: str = ""
    value_unit: str = ""

    @model_validator(mode="after")
    def _custom_values_are_named(self) -> AttributeValueChoice:
        if self.value_id == 0 and not self.original_value_name.strip():
            raise ValueError("value_id 0 (a custom value) needs original_value_name")
        return self


class AttributeChoice(_Option):
    """One attribute of a category and the values to send for it."""

    attribute_id: int = Field(gt=0)
    values: tuple[AttributeValueChoice, ...] = Field(min_length=1)


class CategoryChoice(_Option):
    """A Shopee leaf category and the ``attribute_list`` Indonesian shops must send
    with it (at least one attribute: the list is mandatory for ID shops)."""

    category_id: int = Field(gt=0)
    attributes: tuple[AttributeChoice, ...] = Field(min_length=1)


class LogisticChoice(_Option):
    """One logistics channel of the shop, as ``logistic_info`` carries it."""

    logistic_id: int = Field(gt=0)
    enabled: bool = True
    shipping_fee: int | None = Field(default=None, ge=0)
    size_id: int | None = Field(default=None, ge=0)
    is_free: bool = False


class BrandChoice(_Option):
    """The ``brand`` sent with new items."""

    brand_id: int = Field(default=0, ge=0)
    original_brand_name: str = "NoBrand"


class ShopeeSettings(_Option):
    """Options of the Shopee connector (``marketplaces.shopee.options``).

    ``partner_id`` is the app's id (required). The rest describes what Shopee needs to
    create items and the catalogue does not carry (see the module docstring).
    """

    partner_id: int = Field(gt=0)
    categories: dict[str, CategoryChoice] = Field(default_factory=dict)
    default_category: CategoryChoice | None = None
    logistics: tuple[LogisticChoice, ...] = ()
    brand: BrandChoice | None = None
    days_to_ship: int | None = Field(default=None, ge=1)
    location_id: str | None = Field(default=None, min_length=1)

    @field_validator("categories")
    @classmethod
    def _keys_are_texts(
        cls, value: dict[str, CategoryChoice]
    ) -> dict[str, CategoryChoice]:
        normalised: dict[str, CategoryChoice] = {}
        for text, choice in value.items():
            key = category_key(text)
            if not key:
                raise ValueError("category names must not be empty")
            if key in normalised:
                raise ValueError(f"category {text!r} is given twice")
            normalised[key] = choice
        return normalised

    @field_validator("logistics")
    @classmethod
    def _one_channel_enabled(
        cls, value: tuple[LogisticChoice, ...]
    ) -> tuple[LogisticChoice, ...]:
        if value and not any(choice.enabled for choice in value):
            raise ValueError("at least one logistics channel must be enabled")
        return value

    def category_for(self, text: str) -> CategoryChoice | None:
        """The Shopee category of a canonical category text, or the default."""
        return self.categories.get(category_key(text), self.default_category)
