"""What a marketplace plugin declares about itself: its descriptor and capabilities.

Each marketplace package exports a :class:`MarketplaceDescriptor` through the
``ikm_sync.connectors`` entry-point group (``connectors.registry`` reads it); its
simulator and its test kit are found under the same key in the ``ikm_sync.simulators``
and ``ikm_sync.testkits`` groups. Everything that lists marketplaces reads the
registry, so adding one is its package plus its entry-point lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: A marketplace key: the entry-point name, a settings section and a database value
#: (``channel_accounts.marketplace`` holds 16 characters).
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,15}")


class Capability(StrEnum):
    """What a marketplace's API lets a seller's tool do; the planner never plans
    what a marketplace cannot do."""

    #: Edit a live listing's content (name, description, images, weight).
    UPDATE_CONTENT = "update_content"
    #: Take a listing off sale and put it back (deactivate, reactivate).
    UNLIST = "unlist"
    #: The order list filters by update time, so status changes of older orders are
    #: seen in the pull; without it open orders are re-read one by one.
    ORDERS_BY_UPDATE_TIME = "orders_by_update_time"
    #: A seller may cancel (or reject) an order.
    CANCEL_ORDERS = "cancel_orders"
    #: The marketplace pushes order events to a registered URL.
    WEBHOOKS = "webhooks"
    #: A seller may ship (fulfil) an order through the API.
    FULFIL = "fulfil"


@dataclass(frozen=True, slots=True)
class RateDefault:
    """A documented (or, where the pages are silent, assumed) request rate per budget
    key: requests a second and burst."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_second > 0 and burst >= 1")


@dataclass(frozen=True, slots=True)
class MarketplaceDescriptor:
    """One marketplace plugin, as its package declares it.

    ``connector`` is the connector class (its ``key`` equals ``key``; its
    ``capabilities`` are the marketplace's), ``settings`` the pydantic model of the
    marketplace's ``options``.
    """

    key: str
    display_name: str
    connector: type[Any]
    settings: type[Any]
    rate: RateDefault

    def __post_init__(self) -> None:
        if not KEY_PATTERN.fullmatch(self.key):
            raise ValueError(
                f"marketplace key {self.key!r}: expected lower-case letters, digits "
                "and '_', starting with a letter (at most 16)"
            )
        if getattr(self.connector, "key", None) != self.key:
            raise ValueError(
                f"marketplace {self.key!r}: its connector's key is "
                f"{getattr(self.connector, 'key', None)!r}"
            )

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What the marketplace's API lets the connector do."""
        found: frozenset[Capability] = self.connector.capabilities
        return found

    def can(self, capability: Capability) -> bool:
        """Whether the marketplace lets the connector do ``capability``."""
        return capability in self.capabilities
