"""Channel accounts (one shop on one marketplace) and their allocation policies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import ClassVar

from core.domain.ids import AccountId, ProducerCode, sku_key
from core.domain.marketplaces import KEY_PATTERN

#: Every marketplace key seen, one object each.
_INTERNED: dict[str, Marketplace] = {}


class Marketplace(str):
    """A marketplace's key, e.g. ``"shopee"``: the name its plugin's entry points
    carry. Any well-formed key is a value; whether a plugin is installed for it is
    the registry's question (``connectors.registry``), so a marketplace added as a
    plugin needs no line here. The constants name the marketplaces shipped with
    ikm-sync."""

    __slots__ = ()

    SHOPEE: ClassVar[Marketplace]
    TOKOPEDIA: ClassVar[Marketplace]
    BUKALAPAK: ClassVar[Marketplace]

    def __new__(cls, key: str) -> Marketplace:
        if type(key) is cls:
            return key
        known = _INTERNED.get(key)
        if known is not None:
            return known
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(
                f"{key!r} is not a marketplace key: expected lower-case letters, "
                "digits and '_', starting with a letter (at most 16)"
            )
        # one object per key, as an enum member: ``is`` compares like ``==``
        return _INTERNED.setdefault(key, super().__new__(cls, key))

    def __reduce__(self) -> tuple[type[Marketplace], tuple[str]]:
        return (Marketplace, (self.value,))

    @property
    def value(self) -> str:
        """The key as a plain string."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Marketplace({str.__repr__(self)})"


Marketplace.SHOPEE = Marketplace("shopee")
Marketplace.TOKOPEDIA = Marketplace("tokopedia")
Marketplace.BUKALAPAK = Marketplace("bukalapak")


@dataclass(frozen=True, slots=True)
class AllocationRule:
    """How much of a SKU's available stock an account may show.

    ``listed = min(cap, floor((available - safety_buffer) * share_percent / 100))``,
    never below zero, and zero when it would be under ``min_to_list``.
    """

    share_percent: int = 100
    safety_buffer: int = 0
    cap: int | None = None
    min_to_list: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.share_percent <= 100:
            raise ValueError("share_percent must be within 0..100")
        if self.safety_buffer < 0 or self.min_to_list < 0:
            raise ValueError("safety_buffer and min_to_list must be 0 or more")
        if self.cap is not None and self.cap < 0:
            raise ValueError("cap must be 0 or more")

    def allocate(self, available: int) -> int:
        """The quantity to show for ``available`` units."""
        sellable = max(available - self.safety_buffer, 0)
        listed = sellable * self.share_percent // 100
        if self.cap is not None:
            listed = min(listed, self.cap)
        return 0 if listed < self.min_to_list else listed


@dataclass(frozen=True, slots=True)
class AllocationPolicy:
    """An account's default rule, per-SKU overrides and excluded SKUs (by SKU key)."""

    default: AllocationRule = field(default_factory=AllocationRule)
    overrides: Mapping[str, AllocationRule] = field(
        default_factory=lambda: MappingProxyType({})
    )
    excluded: frozenset[str] = frozenset()

    def rule_for(self, sku: str) -> AllocationRule | None:
        """The rule for ``sku``, or ``None`` when the account excludes the SKU."""
        key = sku_key(sku)
        if key in self.excluded:
            return None
        return self.overrides.get(key, self.default)

    def allocate(self, sku: str, available: int) -> int | None:
        """Quantity to show for ``sku``; ``None`` when the account must not list it."""
        rule = self.rule_for(sku)
        return None if rule is None else rule.allocate(available)


@dataclass(frozen=True, slots=True)
class Handover:
    """One shop moving from one marketplace API to another: a Tokopedia shop bound to
    TikTok Shop is served through the TikTok Shop Partner API from then on, while its
    older orders may still be visible through both.

    From the handover on, ``successor`` alone publishes to the shop (its listings
    are found by SKU before anything is created, so none is listed twice). Orders
    are split by when they were placed: ``predecessor`` keeps following those placed
    before ``at``, ``successor`` takes those placed from ``at`` on, so an order seen
    through both APIs is counted once.
    """

    predecessor: AccountId
    successor: AccountId
    at: datetime

    def __post_init__(self) -> None:
        if self.predecessor == self.successor:
            raise ValueError(f"account {self.successor!r} cannot take over itself")
        if self.at.tzinfo is None:
            raise ValueError("a handover time needs its time zone")

    def publishes(self, account: AccountId) -> bool:
        """Whether ``account`` publishes to the shop (the successor only)."""
        return account == self.successor

    def keeps(self, account: AccountId, placed_at: datetime) -> bool:
        """Whether ``account`` follows an order placed at ``placed_at``."""
        if account == self.successor:
            return placed_at >= self.at
        return placed_at < self.at


@dataclass(frozen=True, slots=True)
class PolicyEdit:
    """An allocation policy set in the console: by whom, when, and the policy the
    settings gave the account then.

    ``accounts apply`` keeps the console's policy while the settings still give
    ``settings_policy``; once the settings' policy changes, the settings win and the
    edit ends (both recorded in the audit trail).
    """

    by: str
    at: datetime
    settings_policy: AllocationPolicy


@dataclass(frozen=True, slots=True)
class ChannelAccount:
    """One shop on one marketplace, owned by one or more producers.

    ``credentials_ref`` names a credential set held outside the store; the store never
    holds secrets. ``handover`` is set on both accounts of a shop that moved from one
    API to another (:class:`Handover`).
    """

    id: AccountId
    marketplace: Marketplace
    shop_id: str
    producer_codes: tuple[ProducerCode, ...]
    policy: AllocationPolicy = field(default_factory=AllocationPolicy)
    credentials_ref: str | None = None
    enabled: bool = True
    #: The shop's move between two accounts, when this account is one of them.
    handover: Handover | None = None
    #: Set while the policy is one an officer set in the console.
    policy_edit: PolicyEdit | None = None

    def __post_init__(self) -> None:
        if self.handover is not None and self.id not in (
            self.handover.predecessor,
            self.handover.successor,
        ):
            raise ValueError(f"account {self.id!r}: its handover names other accounts")
        # One canonical order, so two descriptions of the same shop compare equal.
        object.__setattr__(
            self, "producer_codes", tuple(sorted(set(self.producer_codes)))
        )
