"""One writer process of ``bench.audit``: stock receipts, one transaction each.

Run by path (``python bench/_audit_writer.py URL START COUNT SKUS``) with the tree
under measurement first on ``PYTHONPATH``, so the same script measures the tree
before the audit trail and the tree with it; it uses only what both have (the unit
of work and the ledger). Waits for a line on standard input before it starts (so
every writer starts together), then prints its transactions and seconds as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

from core.domain.ids import Sku
from core.domain.stock import MovementReason, NewMovement
from core.store.db import make_engine, make_session_factory
from core.store.uow import SqlUnitOfWork


def main() -> int:
    """Write, then report; 0 when every transaction committed."""
    url, start, count, skus = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        sys.argv[4],
    )
    products = skus.split(",")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    sys.stdin.readline()  # the go signal
    started = time.perf_counter()
    for number in range(start, start + count):
        with SqlUnitOfWork(sessions) as uow:
            uow.stock.record(
                NewMovement(
                    sku=Sku(products[number % len(products)]),
                    reason=MovementReason.RECEIPT,
                    on_hand_delta=1,
                    reserved_delta=0,
                    idempotency_key=f"bench-audit:{number}",
                    actor="bench:writer",
                ),
                datetime.now(UTC),
            )
            uow.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"transactions": count, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
