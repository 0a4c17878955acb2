"""The TikTok Shop connector's own settings: the ``options`` of its marketplace
section.

Secrets are not settings: the app's ``app_key`` and ``app_secret`` come from the
account's credential set (see :mod:`connectors.tiktok_shop.connector`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: tiktok-shop.md §2: the token host (some code uses ``auth.tiktokglobalshop.com``).
DEFAULT_TOKEN_URL = "https://auth.tiktok-shops.com/api/v2/token/get"  # noqa: S105
#: Where a seller approves the app [INF: the partner centre's consent page].
DEFAULT_AUTHORIZE_URL = "https://services.tiktokshop.com/open/authorize"


def category_key(text: str) -> str:
    """How canonical category texts are compared: trimmed, case-folded, single
    spaces."""
    return " ".join(text.split()).casefold()


def _absolute(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("expected an absolute http(s) URL")
    return value


class TikTokShopSettings(BaseModel):
    """Options of ``[marketplaces.tiktok_shop]`` (extra keys are refused).

    Attributes:
        token_url: the token call (§2: ``/api/v2/token/get`` on the token host,
            whose name varies, so it is configurable).
        authorize_url: the seller's consent page; with ``service_id`` it makes
            :meth:`TikTokShopConnector.authorization_url`.
        service_id: the app's service id on the consent page (empty: no consent
            URL is offered).
        app_secret_in_token_call: pass ``app_secret`` in the token query (§2: most
            integrator code does; one integrator's notes say not to).
        categories: canonical category text → TikTok Shop leaf ``category_id``;
            keys compare case-insensitively.
        default_category_id: the leaf category for a text not in ``categories``;
            without it such a draft is refused before any call.
        warehouse_id: the warehouse stock is set in; empty: the SKU's default
            warehouse (§5: the id is optional then).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: str = DEFAULT_TOKEN_URL
    authorize_url: str = DEFAULT_AUTHORIZE_URL
    service_id: str = ""
    app_secret_in_token_call: bool = True
    categories: dict[str, str] = Field(default_factory=dict)
    default_category_id: str | None = Field(default=None, min_length=1)
    warehouse_id: str = ""

    @field_validator("token_url", "authorize_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        return _absolute(value)

    @field_validator("categories")
    @classmethod
    def _normalised_categories(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for text, category_id in value.items():
            key = category_key(text)
            if not key:
                raise ValueError("a category text must not be empty")
            if not category_id.strip():
                raise ValueError(f"category {text!r}: expected a category id")
            if key in out and out[key] != category_id:
                raise ValueError(f"category {text!r} is mapped twice")
            out[key] = category_id.strip()
        return out

    def category_for(self, text: str) -> str | None:
        """The leaf category id for a canonical category text, or ``None``."""
        return self.categories.get(category_key(text), self.default_category_id)
