"""Downloads streamed from the store: CSV (UTF-8 with BOM, every cell
neutralised, as ``--csv --out FILE`` writes it) and JSON Lines (as ``--json``
writes it), built a chunk of rows at a time, so memory does not grow with the
export. The count of rows written is kept for the audit event of the export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from core.csvfile import neutralise

#: Rows encoded per chunk sent.
CHUNK_ROWS = 500
_BOM = "\ufeff"


class Counted:
    """How many rows a stream has written so far."""

    def __init__(self) -> None:
        self.rows = 0


def csv_chunks(
    header: Iterable[str], rows: Iterable[Iterable[object]], counted: Counted
) -> Iterator[bytes]:
    """A CSV of ``header`` and ``rows``, in chunks of encoded bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(_BOM)
    writer.writerow([neutralise(name) for name in header])
    pending = 0
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        counted.rows += 1
        pending += 1
        if pending >= CHUNK_ROWS:
            yield _drain(buffer)
            pending = 0
    yield _drain(buffer)


def json_line_chunks(
    records: Iterable[dict[str, Any]], counted: Counted
) -> Iterator[bytes]:
    """JSON Lines of ``records``, in chunks of encoded bytes."""
    buffer = io.StringIO()
    pending = 0
    for record in records:
        buffer.write(json.dumps(record, ensure_ascii=False, default=str))
        buffer.write("\n")
        counted.rows += 1
        pending += 1
        if pending >= CHUNK_ROWS:
            yield _drain(buffer)
            pending = 0
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")
