"""The Tokopedia connector's own settings: the ``options`` of its marketplace section.

Secrets are not settings: the app's ``client_id`` and ``client_secret`` come from the
account's credential set (see :mod:`connectors.tokopedia.connector`).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: tokopedia.md §1: the token URL is on its own host.
DEFAULT_TOKEN_URL = "https://accounts.tokopedia.com/token"  # noqa: S105 - a URL


def category_key(text: str) -> str:
    """How canonical category texts are compared: trimmed, case-folded, single
    spaces (``" Kopi  Bubuk"`` and ``"kopi bubuk"`` name one category)."""
    return " ".join(text.split()).casefold()


class TokopediaSettings(BaseModel):
    """Options of ``[marketplaces.tokopedia]`` (extra keys are refused).

    Attributes:
        fs_id: the app id Tokopedia issued (path segment of most calls, §1).
        token_url: where client-credentials tokens come from (§2.1).
        categories: canonical category text → Tokopedia leaf ``category_id``; the
            canonical catalogue carries a category text, Tokopedia wants the id of
            the deepest child category (§5.1). Keys compare case-insensitively.
        default_category_id: the leaf category for a text not in ``categories``;
            without it such a draft is refused before any call.
        product_status: the ``status`` of a created product (§5.1: one page version
            knows ``LIMITED`` only, so that is the default). The catalogue has no such
            notion.
        min_order: the ``min_order`` of a created product (§5.1, positive); the
            catalogue has no minimum order quantity.
        bypass_update_product_status: send ``bypass_update_product_status=true``
            with stock updates, so stock 0 does not change the product's status
            (§5.3). Off by default: Tokopedia's own behaviour.
        payment_lookback_hours: how far before a window's start the order list is
            read (§6.1 lists orders by creation time, but only once payment is
            verified: an order created before the window and paid inside it would
            otherwise never be seen). Set it to the longest time a buyer may take to
            pay; 48 hours by default, 0 to read the window only.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    fs_id: int = Field(gt=0)
    token_url: str = DEFAULT_TOKEN_URL
    categories: dict[str, int] = Field(default_factory=dict)
    default_category_id: int | None = Field(default=None, gt=0)
    product_status: Literal["LIMITED", "UNLIMITED"] = "LIMITED"
    min_order: int = Field(default=1, ge=1)
    bypass_update_product_status: bool = False
    payment_lookback_hours: int = Field(default=48, ge=0, le=24 * 14)

    @field_validator("token_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("expected an absolute http(s) URL")
        return value

    @field_validator("categories")
    @classmethod
    def _normalised_categories(cls, value: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for text, category_id in value.items():
            key = category_key(text)
            if not key:
                raise ValueError("a category text must not be empty")
            if category_id <= 0:
                raise ValueError(f"category {text!r}: expected a positive id")
            if key in out and out[key] != category_id:
                raise ValueError(f"category {text!r} is mapped twice")
            out[key] = category_id
        return out

    def category_for(self, text: str) -> int | None:
        """The leaf category id for a canonical category text, or ``None``."""
        return self.categories.get(category_key(text), self.default_category_id)
