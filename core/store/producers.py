"""Producers in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.audit.changes import producer_fields
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import ProducerCode
from core.store._sql import update_many_by
from core.store.tables import ProducerRow, table_of


def _to_domain(row: ProducerRow) -> Producer:
    return Producer(
        code=ProducerCode(row.code),
        name=row.name,
        kind=ProducerKind(row.kind),
        province=row.province,
        regency=row.regency,
        sentra=row.sentra,
        institution=row.institution,
        business_id=row.business_id,
    )


class SqlProducerRepository:
    """``core.ports.ProducerRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get_all(self) -> dict[str, Producer]:
        rows = self._session.execute(
            select(ProducerRow).order_by(col(ProducerRow.code))
        ).scalars()
        return {row.code: _to_domain(row) for row in rows}

    def ids_by_code(self) -> dict[str, int]:
        """Surrogate keys by producer code, for the other repositories."""
        rows = self._session.execute(select(col(ProducerRow.code), col(ProducerRow.id)))
        return {code: int(id_) for code, id_ in rows if id_ is not None}

    def add_many(self, producers: Sequence[Producer], at: datetime) -> None:
        if producers:
            self._session.execute(
                sa.insert(table_of(ProducerRow)),
                [
                    {**producer_fields(p), "created_at": at, "updated_at": at}
                    for p in producers
                ],
            )

    def update_many(self, producers: Sequence[Producer], at: datetime) -> None:
        update_many_by(
            self._session,
            table_of(ProducerRow),
            "code",
            [{**producer_fields(p), "updated_at": at} for p in producers],
        )

    def count_by_kind(self) -> dict[ProducerKind, int]:
        rows = self._session.execute(
            select(col(ProducerRow.kind), func.count()).group_by(col(ProducerRow.kind))
        )
        return {ProducerKind(kind): int(count) for kind, count in rows}
