"""Which rows of a catalogue import an officer may write: only those of producers in
their scope. A row of any other producer is an issue naming the producer's code."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from core.catalogue.sheets import Sheet
from core.catalogue.validate import ProductRecord, validate_sheets
from core.domain.catalogue import Producer
from core.domain.ids import sku_key
from core.domain.users import Visible
from core.errors import InputIssue


def out_of_scope(
    sheets: Sequence[Sheet],
    visible: Visible,
    stored: Mapping[str, Producer],
    *,
    owners: Callable[[list[str]], Mapping[str, str]] | None = None,
) -> list[InputIssue]:
    """The rows of ``sheets`` that ``visible`` may not import (none for a user who
    sees everything). ``stored`` is every stored producer by code; ``owners``
    gives the stored producer's code of each SKU key that names a stored product.

    A producers row is admitted when its producer is in scope now (or is new) and
    its new fields keep it in scope; a products row when its producer is in scope
    or is created in scope by the same import, and its SKU names no stored
    product of a producer outside the scope (which the row would take over).
    Rows that do not validate, and products of producers nobody knows, are left
    to the import's own checks.
    """
    if visible.everything:
        return []
    scope = visible.user.scope
    issues: list[InputIssue] = []
    products: list[tuple[str, str, str, int]] = []

    def keep(records: list[ProductRecord]) -> None:
        products.extend(
            (str(r.product.producer_code), str(r.product.sku), r.ref.source, r.ref.row)
            for r in records
        )

    catalogue = validate_sheets(sheets, None, None, keep, 3_000)
    admitted: set[str] = set()
    refused: set[str] = set()
    for record in catalogue.producers:
        producer = record.producer
        code = str(producer.code)
        now_ours = code not in stored or visible.sees_producer_code(code)
        stays_ours = scope.admits(
            code=code, province=producer.province, institution=producer.institution
        )
        if now_ours and stays_ours:
            admitted.add(code)
            continue
        refused.add(code)
        issues.append(
            InputIssue(
                source=record.ref.source,
                row=record.ref.row,
                column="producer_code",
                value=code,
                expected=f"a producer within your scope ({scope.describe()}); "
                f"producer {code} is outside it",
            )
        )
    owned = owners([sku_key(sku) for _, sku, _, _ in products]) if owners else {}
    for code, sku, source, row in products:
        if code in admitted or visible.sees_producer_code(code):
            owner = owned.get(sku_key(sku))
            if owner is not None and not visible.sees_producer_code(owner):
                # a stored product of another scope: neither taken nor changed
                issues.append(
                    InputIssue(
                        source=source,
                        row=row,
                        column="sku",
                        value=sku,
                        expected=f"a product within your scope ({scope.describe()}); "
                        f"the SKU {sku} names a product outside it",
                    )
                )
            continue
        if code not in stored and code not in refused:
            continue  # an unknown producer: the import names it
        issues.append(
            InputIssue(
                source=source,
                row=row,
                column="producer_code",
                value=code,
                expected=f"a product of a producer within your scope "
                f"({scope.describe()}); producer {code} is outside it",
            )
        )
    return issues
