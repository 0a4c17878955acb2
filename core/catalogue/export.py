"""Writing the catalogue back out in the shape ``catalog import`` reads.

CSV goes through :func:`core.csvfile.write_csv`, which keeps text that starts like a
formula from being run by a spreadsheet program; import takes its mark off again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from core.catalogue.columns import PRODUCER_COLUMNS, PRODUCT_COLUMNS
from core.csvfile import replacing, write_csv
from core.domain.catalogue import Producer, Product

Row = list[str | int]


def producer_row(producer: Producer) -> Row:
    """One producers-sheet row, in ``PRODUCER_COLUMNS`` order."""
    return [
        producer.code,
        producer.name,
        producer.kind.value,
        producer.province,
        producer.regency,
        producer.sentra or "",
        producer.institution or "",
        producer.business_id or "",
    ]


def product_row(product: Product, on_hand: int) -> Row:
    """One products-sheet row, in ``PRODUCT_COLUMNS`` order; stock is on hand."""
    dims = product.dimensions
    return [
        product.sku,
        product.producer_code,
        product.name,
        product.price,
        product.weight_grams,
        product.description,
        product.category,
        dims.length_cm if dims else "",
        dims.width_cm if dims else "",
        dims.height_cm if dims else "",
        "|".join(product.image_urls),
        product.condition.value,
        product.status.value,
        product.provenance,
        on_hand,
    ]


def write_xlsx(
    path: Path, sheets: Mapping[str, tuple[Iterable[str], Iterable[Row]]]
) -> int:
    """Write a workbook with one sheet per entry; returns the data rows written.

    The file appears whole or not at all; raises ``OSError`` when it cannot be written.
    """
    from openpyxl import Workbook  # deferred: only XLSX exports need it
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    count = 0
    for title, (header, rows) in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append(list(header))
        for row in rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value)
                if isinstance(value, str):
                    cell.data_type = (
                        "s"  # text stays text, even when it starts with "="
                    )
                cells.append(cell)
            sheet.append(cells)
            count += 1
    with replacing(path) as temporary:
        workbook.save(temporary)
    return count


__all__ = [
    "PRODUCER_COLUMNS",
    "PRODUCT_COLUMNS",
    "producer_row",
    "product_row",
    "write_csv",
    "write_xlsx",
]
