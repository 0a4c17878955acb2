"""Identifier types and the SKU normal form."""

from __future__ import annotations

import re
from typing import NewType

Sku = NewType("Sku", str)
ProducerCode = NewType("ProducerCode", str)
AccountId = NewType("AccountId", str)

_WHITESPACE = re.compile(r"\s+")


def sku_key(sku: str) -> str:
    """The form two SKUs are compared in: no white space, upper case.

    ``"kopi-001 "`` and ``"KOPI-001"`` share a key, so they cannot name two products.
    """
    key = _WHITESPACE.sub("", sku).upper()
    return sku if key == sku else key  # share the object when nothing changed
