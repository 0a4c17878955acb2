"""The allocation policy as the Shops page edits it: six fields of text, read into
an :class:`AllocationPolicy` or refused with an error per field.

Overrides are one line per SKU, ``SKU: share_percent=50, cap=20`` (names not given
take the account's default); exclusions are SKUs separated by lines or commas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from core.domain.accounts import AllocationPolicy, AllocationRule
from core.domain.ids import sku_key

#: The rule's fields, in the order the form shows them.
RULE_FIELDS = ("share_percent", "safety_buffer", "cap", "min_to_list")
#: The longest SKU the store keeps.
SKU_LENGTH = 64
_SKU = re.compile(r"^[^\s:=,]+$")


@dataclass(frozen=True, slots=True)
class FieldError:
    """What is wrong with one field: its name (or ``overrides line 2``), an English
    message with ``{placeholders}`` (translated by the page) and their values."""

    name: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PolicyForm:
    """The form's text, as typed or as shown for a stored policy."""

    share_percent: str = "100"
    safety_buffer: str = "0"
    cap: str = ""
    min_to_list: str = "0"
    overrides: str = ""
    excluded: str = ""

    @classmethod
    def of(cls, policy: AllocationPolicy) -> PolicyForm:
        """The form showing ``policy``."""
        rule = policy.default
        return cls(
            share_percent=str(rule.share_percent),
            safety_buffer=str(rule.safety_buffer),
            cap="" if rule.cap is None else str(rule.cap),
            min_to_list=str(rule.min_to_list),
            overrides="\n".join(
                f"{sku}: " + ", ".join(_rule_parts(r))
                for sku, r in sorted(policy.overrides.items())
            ),
            excluded="\n".join(sorted(policy.excluded)),
        )

    @classmethod
    def posted(cls, values: Mapping[str, Any]) -> PolicyForm:
        """The form as posted (missing fields empty)."""
        return cls(
            **{
                name: str(values.get(name) or "")
                for name in (*RULE_FIELDS, "overrides", "excluded")
            }
        )

    def policy(self) -> tuple[AllocationPolicy | None, list[FieldError]]:
        """The policy the form gives, or ``None`` and the errors (one per field
        or override line)."""
        errors: list[FieldError] = []
        default = _rule(
            AllocationRule(),
            {name: getattr(self, name) for name in RULE_FIELDS},
            "",
            errors,
        )
        overrides = _overrides(self.overrides, default or AllocationRule(), errors)
        excluded = _excluded(self.excluded, errors)
        if errors or default is None:
            return None, errors
        return (
            AllocationPolicy(
                default=default,
                overrides=MappingProxyType(overrides),
                excluded=excluded,
            ),
            [],
        )


def _rule_parts(rule: AllocationRule) -> list[str]:
    return [
        f"share_percent={rule.share_percent}",
        f"safety_buffer={rule.safety_buffer}",
        f"cap={'none' if rule.cap is None else rule.cap}",
        f"min_to_list={rule.min_to_list}",
    ]


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


def _rule(
    base: AllocationRule,
    values: Mapping[str, str],
    where: str,
    errors: list[FieldError],
) -> AllocationRule | None:
    """``base`` with ``values`` (text) applied; ``where`` prefixes field names."""
    changes: dict[str, int | None] = {}
    ok = True
    for name, text in values.items():
        label = f"{where}{name}"
        if name == "cap" and text.strip().lower() in ("", "none"):
            changes["cap"] = None
            continue
        number = _whole(text)
        if name == "share_percent" and (number is None or number > 100):
            errors.append(
                FieldError(label, "expected a whole number from 0 to 100, got {got}",
                           {"got": text})
            )  # fmt: skip
            ok = False
        elif number is None:
            expected = (
                "expected a whole number, 0 or more, or empty for no cap, got {got}"
                if name == "cap"
                else "expected a whole number, 0 or more, got {got}"
            )
            errors.append(FieldError(label, expected, {"got": text}))
            ok = False
        else:
            changes[name] = number
    return replace(base, **changes) if ok else None  # type: ignore[arg-type]


def _overrides(
    text: str, default: AllocationRule, errors: list[FieldError]
) -> dict[str, AllocationRule]:
    found: dict[str, AllocationRule] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        where = f"overrides line {number}"
        sku, colon, rest = line.partition(":")
        sku = sku.strip()
        if not colon or not _SKU.match(sku) or len(sku) > SKU_LENGTH:
            errors.append(
                FieldError(where, "expected SKU: name=value, …, got {got}",
                           {"got": line})
            )  # fmt: skip
            continue
        key = sku_key(sku)
        if key in found:
            errors.append(FieldError(where, "SKU {sku} is given twice", {"sku": sku}))
            continue
        values: dict[str, str] = {}
        bad = False
        for part in (p.strip() for p in rest.split(",")):
            if not part:
                continue
            name, equals, value = part.partition("=")
            name = name.strip()
            if not equals or name not in RULE_FIELDS or name in values:
                errors.append(
                    FieldError(
                        where,
                        "{got}: expected one of share_percent, safety_buffer, cap, "
                        "min_to_list, each once, as name=value",
                        {"got": part},
                    )
                )
                bad = True
                continue
            values[name] = value
        if not values and not bad:
            errors.append(
                FieldError(where, "SKU {sku}: expected at least one name=value",
                           {"sku": sku})
            )  # fmt: skip
            continue
        rule = _rule(default, values, f"{where}: ", errors)
        if rule is not None and not bad:
            found[key] = rule
    return found


def _excluded(text: str, errors: list[FieldError]) -> frozenset[str]:
    found: set[str] = set()
    for sku in (s.strip() for s in re.split(r"[\n,]", text)):
        if not sku:
            continue
        if not _SKU.match(sku) or len(sku) > SKU_LENGTH:
            errors.append(
                FieldError("excluded", "expected SKUs separated by lines or commas, "
                           "got {got}", {"got": sku})
            )  # fmt: skip
            continue
        found.add(sku_key(sku))
    return frozenset(found)
