"""The Bukalapak simulator's records, time format, envelope and state machine.

Everything here is plain data and pure helpers; :mod:`simulators.bukalapak.simulator`
owns the behaviour. Times are kept as integer microseconds since the Unix epoch so that
ordering and windows are exact; they are shown as ISO 8601 in WIB (``+07:00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, TypeGuard

import httpx

from simulators.kit.routing import json_response

#: Business time zone of Bukalapak (WIB, UTC+7); responses carry this offset.
WIB = timezone(timedelta(hours=7))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

#: Every transaction state (page §5.3).
STATES: tuple[str, ...] = (
    "pending",
    "paid",
    "accepted",
    "delivered",
    "received",
    "remitted",
    "rejected",
    "expired",
    "cancelled",
    "refunded",
)

#: The state machine of page §8.1 item 8: state → states it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "expired"}),
    "paid": frozenset({"accepted", "rejected", "cancelled", "expired"}),
    "accepted": frozenset({"delivered"}),
    "delivered": frozenset({"received"}),
    "received": frozenset({"remitted"}),
    "rejected": frozenset({"refunded"}),
    "cancelled": frozenset({"refunded"}),
    "expired": frozenset(),
    "remitted": frozenset(),
    "refunded": frozenset(),
}

#: States whose arrival gives reserved stock back (page §8.1 item 9).
RELEASING_STATES = frozenset({"rejected", "expired", "cancelled", "refunded"})

#: SKU states (page §9).
SKU_STATES = frozenset({"active", "inactive"})

#: Value limits (page §9).
STOCK_MAX = 999_999
LIMIT_MAX = 50

#: Simulator-defined ``errors[].code`` values (page §9: clients must not rely on them).
CODE_BAD_REQUEST = 10000
CODE_VALIDATION = 10001
CODE_NOT_FOUND = 10002
CODE_FORBIDDEN = 10003
CODE_UNAUTHORIZED = 10004
CODE_RATE_LIMITED = 10005
CODE_SERVER_ERROR = 10006
CODE_CLOSED = 10007
CODE_ILLEGAL_TRANSITION = 10008
CODE_METHOD_NOT_ALLOWED = 10009

#: The masked consignee phone (page §7 and §9).
MASKED_PHONE = "Terkunci"


# ---------------------------------------------------------------------- time


def micros(moment: datetime) -> int:
    """Integer microseconds since the epoch of an aware datetime."""
    return (moment - _EPOCH) // _MICRO


_DAY = 86_400_000_000
_WIB_OFFSET = 7 * 3_600_000_000
#: WIB days after 1 January 1970 whose times are formatted by arithmetic (to 9909).
_ARITHMETIC_DAYS = 2_900_000
_TWO = tuple(f"{number:02d}" for number in range(60))


@lru_cache(maxsize=65_536)
def iso_wib(value: int) -> str:
    """An epoch-microseconds value as ISO 8601 with the ``+07:00`` offset.

    Exactly ``datetime.isoformat`` of that moment in WIB (microseconds only when not
    zero). From 1970 on it is written from the day's date and the time's digits, in
    less than half the time building the datetime takes."""
    day, rest = divmod(value + _WIB_OFFSET, _DAY)
    if type(value) is not int or not 0 <= day < _ARITHMETIC_DAYS:
        return (_EPOCH + timedelta(microseconds=value)).astimezone(WIB).isoformat()
    seconds, fraction = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    clock = f"{_wib_date(day)}T{_TWO[hour]}:{_TWO[minute]}:{_TWO[second]}"
    return f"{clock}.{fraction:06d}+07:00" if fraction else f"{clock}+07:00"


@lru_cache(maxsize=4_096)
def _wib_date(day: int) -> str:
    """``YYYY-MM-DD`` of a WIB day counted from 1 January 1970."""
    return (_EPOCH.date() + timedelta(days=day)).isoformat()


_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def parse_iso(text: str) -> int:
    """A query time (ISO 8601, any offset) as epoch microseconds.

    A value without an offset is read as WIB; a ``+`` that arrived as a space (an
    unencoded query string) is put back. Raises ValueError when it is not ISO 8601.
    """
    value = _SPACED_OFFSET.sub(r"+\1", text.strip())
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    return micros(moment)


# ---------------------------------------------------------------------- envelope


class ApiError(Exception):
    """An error answer: HTTP status (mirrored in ``meta.http_status``), code, text."""

    def __init__(
        self,
        status: int,
        message: str,
        code: int | None = None,
        *,
        more: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else default_code(status)
        self.messages = [message, *(more or [])]

    def response(self) -> httpx.Response:
        """The error in the envelope, one ``errors[]`` entry per message."""
        entries = [{"code": self.code, "message": text} for text in self.messages]
        return envelope(self.status, None, errors=entries)


def default_code(status: int) -> int:
    """The simulator's error code for an HTTP status."""
    return {
        400: CODE_BAD_REQUEST,
        401: CODE_UNAUTHORIZED,
        403: CODE_FORBIDDEN,
        404: CODE_NOT_FOUND,
        405: CODE_METHOD_NOT_ALLOWED,
        422: CODE_VALIDATION,
        429: CODE_RATE_LIMITED,
    }.get(status, CODE_SERVER_ERROR)


def envelope(
    status: int,
    data: Any,
    *,
    meta: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    http_status: int | None = None,
) -> httpx.Response:
    """``{data, meta{http_status}, errors[]}`` answered with ``http_status`` (default:
    the same status as ``meta.http_status``)."""
    body = {
        "data": data,
        "meta": {"http_status": status, **(meta or {})},
        "errors": errors or [],
    }
    return json_response(
        status if http_status is None else http_status, body, headers=headers
    )


def error_envelope(
    status: int,
    message: str,
    code: int | None = None,
    *,
    headers: dict[str, str] | None = None,
    http_status: int | None = None,
) -> httpx.Response:
    """An error in the envelope: ``data`` null and one ``errors[]`` entry."""
    entry = {
        "code": code if code is not None else default_code(status),
        "message": message,
    }
    return envelope(
        status, None, errors=[entry], headers=headers, http_status=http_status
    )


# ---------------------------------------------------------------------- records


@dataclass(slots=True)
class Store:
    """A seller's account and store (one store per user on Bukalapak)."""

    user_id: int
    store_id: int
    username: str
    password: str
    name: str
    email: str
    store_name: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return {
            "user_id": self.user_id,
            "store_id": self.store_id,
            "username": self.username,
            "password": self.password,
            "name": self.name,
            "email": self.email,
            "store_name": self.store_name,
        }


@dataclass(slots=True)
class Sku:
    """One SKU (a product's variant): price, stock and state live here."""

    id: int
    product_id: str
    store_id: int
    sku_name: str
    variant_name: str
    price: int
    stock: int
    state: str
    updated_at: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (also the state file's shape)."""
        return {
            "id": self.id,
            "product_id": self.product_id,
            "store_id": self.store_id,
            "sku_name": self.sku_name,
            "variant_name": self.variant_name,
            "price": self.price,
            "stock": self.stock,
            "state": self.state,
            "updated_at": self.updated_at,
        }


@dataclass(slots=True)
class Product:
    """A product and its SKU ids."""

    id: str
    store_id: int
    name: str
    category_id: int
    description: str
    condition: str
    weight: int
    images: list[int]
    created_at: int
    updated_at: int
    sku_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (the state file's shape)."""
        return {
            "id": self.id,
            "store_id": self.store_id,
            "name": self.name,
            "category_id": self.category_id,
            "description": self.description,
            "condition": self.condition,
            "weight": self.weight,
            "images": list(self.images),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "sku_ids": list(self.sku_ids),
        }


@dataclass(slots=True)
class Line:
    """One transaction item: the SKU as it was sold."""

    sku_id: int
    product_id: str
    sku_name: str
    name: str
    weight: int
    quantity: int
    price: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return {
            "sku_id": self.sku_id,
            "product_id": self.product_id,
            "sku_name": self.sku_name,
            "name": self.name,
            "weight": self.weight,
            "quantity": self.quantity,
            "price": self.price,
        }


@dataclass(slots=True)
class Transaction:
    """A sale (order) of one store."""

    id: int
    transaction_id: str
    store_id: int
    state: str
    created_at: int
    updated_at: int
    state_changed_at: int
    buyer_name: str
    buyer_username: str
    lines: list[Line]
    delivery_fee: int
    consignee: dict[str, str]
    requested_carrier: str
    buyer_note: str = ""
    carrier: str = ""
    tracking_number: str = ""
    reserved: bool = False
    phone_masked: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    def key(self) -> tuple[int, int]:
        """Its place in the created-at index."""
        return (self.created_at, self.id)

    def items_total(self) -> int:
        """Sum of the lines."""
        return sum(line.price * line.quantity for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (the state file's shape)."""
        return {
            "id": self.id,
            "transaction_id": self.transaction_id,
            "store_id": self.store_id,
            "state": self.state,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "state_changed_at": self.state_changed_at,
            "buyer_name": self.buyer_name,
            "buyer_username": self.buyer_username,
            "lines": [line.to_dict() for line in self.lines],
            "delivery_fee": self.delivery_fee,
            "consignee": dict(self.consignee),
            "requested_carrier": self.requested_carrier,
            "buyer_note": self.buyer_note,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "reserved": self.reserved,
            "phone_masked": self.phone_masked,
            "history": list(self.history),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Transaction:
        """The inverse of :meth:`to_dict`."""
        values = dict(raw)
        values["lines"] = [Line(**line) for line in raw["lines"]]
        return cls(**values)


def is_int(value: object) -> TypeGuard[int]:
    """An integer in JSON (booleans are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool)
