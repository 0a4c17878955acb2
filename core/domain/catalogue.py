"""Producers and products: the canonical catalogue."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from core.domain.ids import ProducerCode, Sku, sku_key

#: Longest product name the canonical catalogue accepts (Shopee's upper limit; each
#: marketplace may apply a shorter one when publishing).
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 5000
#: Highest price accepted, in whole rupiah: above every marketplace's ceiling.
MAX_PRICE = 1_000_000_000
MAX_WEIGHT_GRAMS = 1_000_000


class ProducerKind(StrEnum):
    """An IKM unit, or a prison training workshop (warga binaan pemasyarakatan)."""

    IKM = "ikm"
    WBP = "wbp"


class ProductStatus(StrEnum):
    """Only active products are offered on marketplaces."""

    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Condition(StrEnum):
    """Condition of the goods as marketplaces ask for it."""

    NEW = "new"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Producer:
    """An IKM unit or a WBP workshop that makes products."""

    code: ProducerCode
    name: str
    kind: ProducerKind
    province: str
    regency: str
    sentra: str | None = None
    institution: str | None = None
    business_id: str | None = None


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Package size in whole centimetres."""

    length_cm: int
    width_cm: int
    height_cm: int


@dataclass(frozen=True, slots=True)
class Product:
    """One SKU of the canonical catalogue. Prices are whole rupiah."""

    sku: Sku
    producer_code: ProducerCode
    name: str
    price: int
    weight_grams: int
    description: str = ""
    category: str = ""
    dimensions: Dimensions | None = None
    image_urls: tuple[str, ...] = ()
    condition: Condition = Condition.NEW
    status: ProductStatus = ProductStatus.ACTIVE
    provenance: str = ""
    #: Hash of every field above: equal fingerprints mean nothing to update.
    fingerprint: str = field(init=False, repr=False, compare=False)
    #: The SKU's normal form (see :func:`core.domain.ids.sku_key`).
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if type(self.price) is not int or not 0 < self.price <= MAX_PRICE:
            raise ValueError(f"price must be whole rupiah in 1..{MAX_PRICE}")
        if type(self.weight_grams) is not int or self.weight_grams <= 0:
            raise ValueError("weight_grams must be a positive whole number")
        object.__setattr__(self, "fingerprint", self._fingerprint())
        object.__setattr__(self, "key", sku_key(self.sku))

    def _fingerprint(self) -> str:
        dims = self.dimensions
        # repr() of a tuple of str/int/None is unambiguous and much cheaper than JSON.
        payload = (
            self.sku,
            self.producer_code,
            self.name,
            self.description,
            self.category,
            self.price,
            self.weight_grams,
            None if dims is None else (dims.length_cm, dims.width_cm, dims.height_cm),
            self.image_urls,
            self.condition,  # an enum's repr names its value
            self.status,
            self.provenance,
        )
        # 128 bits: ample to tell versions of one product apart, and half the memory.
        return hashlib.blake2b(
            repr(payload).encode("utf-8"), digest_size=16
        ).hexdigest()


def changed_fields(old: Product, new: Product) -> list[str]:
    """Names of the fields that differ between two versions of a product."""
    names = (
        "sku",
        "producer_code",
        "name",
        "description",
        "category",
        "price",
        "weight_grams",
        "dimensions",
        "image_urls",
        "condition",
        "status",
        "provenance",
    )
    return [name for name in names if getattr(old, name) != getattr(new, name)]
