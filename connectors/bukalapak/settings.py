"""The Bukalapak connector's options (``marketplaces.bukalapak.options``).

Every option has a default, so a shop can be authorised and read with none set; creating
listings needs a category and at least one image attachment (see :class:`Settings`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

#: The OAuth2 host of page §1.
ACCOUNTS_BASE_URL = "https://accounts.bukalapak.com"


class Settings(BaseModel):
    """Options of one Bukalapak deployment, validated when a connector is built.

    Attributes:
        accounts_base_url: the OAuth2 host (``/oauth/authorize``, ``/oauth/token``);
            page §1 names ``https://accounts.bukalapak.com``.
        category_ids: canonical category text → Bukalapak ``category_id``, matched
            without regard to case or surrounding spaces. The canonical catalogue has
            no Bukalapak category, and ``POST /products`` requires one (page §9).
        default_category_id: the ``category_id`` of a draft whose category is not in
            ``category_ids``; ``None`` refuses such a create before calling.
        image_attachment_ids: image URL → attachment id. ``POST /products`` takes 1 to 5
            pre-uploaded attachment ids, not URLs (page §4.2, §9), and the page
            documents no v4 upload endpoint, so uploads happen out of band and their
            ids are configured here.
        default_image_ids: attachment ids (at most 5) used when none of a draft's
            image URLs is in ``image_attachment_ids``; empty refuses such a create.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts_base_url: str = ACCOUNTS_BASE_URL
    category_ids: dict[str, PositiveInt] = Field(default_factory=dict)
    default_category_id: PositiveInt | None = None
    image_attachment_ids: dict[str, PositiveInt] = Field(default_factory=dict)
    default_image_ids: list[PositiveInt] = Field(default_factory=list, max_length=5)

    @field_validator("accounts_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("expected an absolute http(s) URL")
        return value

    def category_for(self, category: str) -> int | None:
        """The ``category_id`` for a canonical category, or the default."""
        wanted = category.strip().casefold()
        for text, category_id in self.category_ids.items():
            if text.strip().casefold() == wanted:
                return category_id
        return self.default_category_id

    def images_for(self, image_urls: tuple[str, ...]) -> list[int]:
        """Attachment ids (at most 5) for a draft's images, else the defaults."""
        mapped = [
            self.image_attachment_ids[url]
            for url in image_urls
            if url in self.image_attachment_ids
        ]
        return list(dict.fromkeys(mapped or self.default_image_ids))[:5]
