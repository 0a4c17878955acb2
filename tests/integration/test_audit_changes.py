"""Audit events of the catalogue, the accounts and their authorisations: each written
with its change, before → after, and dropped with its rollback."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.audit.canonical import timestamp
from core.audit.events import acting
from core.catalogue.sheets import Cell, Sheet
from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Handover,
    Marketplace,
)
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.errors import InputRejectedError, StoreError
from core.ports import TokenSet
from core.services import catalogue as catalogue_service
from core.services.accounts import apply_accounts
from core.services.catalogue import import_catalogue
from core.store import audit as audit_store
from core.store.crypto import TokenCipher, generate_key
from core.store.db import make_session_factory
from core.store.tokens import SqlTokenStore
from core.store.uow import SqlUnitOfWork
from tests.e2e.helpers import snapshot
from tests.fakes import TEST_TOKEN_KEY, FakeClock, sql_token_store

pytestmark = pytest.mark.db

PRODUCERS = Sheet(
    "producers.csv",
    ("producer_code", "name", "kind", "province", "regency"),
    [
        (2, ("IKM-NTT-001", "Koperasi Kopi Bajawa", "ikm", "NTT", "Ngada")),
        (3, ("IKM-NTT-002", "Tenun Ikat Nita", "ikm", "NTT", "Sikka")),
    ],
)
HEADER = ("sku", "producer_code", "name", "price", "weight_grams", "status", "stock")
KOPI = (
    "KOPI-FLR-001",
    "IKM-NTT-001",
    "Kopi Bajawa 250 g",
    "85000",
    "270",
    "active",
    "4",
)
TENUN = ("TENUN-001", "IKM-NTT-002", "Selendang Ikat", "350000", "400", "active", "")


def products(*rows: tuple[Cell, ...]) -> Sheet:
    return Sheet("products.csv", HEADER, [(n, r) for n, r in enumerate(rows, start=2)])


Events = list[dict[str, Any]]


def events(engine: sa.Engine, *prefixes: str) -> Events:
    """The stored events (of actions starting with any of ``prefixes``), in order."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT actor, action, subject, account, reason, before, after "
                "FROM audit_events ORDER BY id"
            )
        ).mappings()
        found = [
            {
                **row,
                "before": None if row["before"] is None else json.loads(row["before"]),
                "after": None if row["after"] is None else json.loads(row["after"]),
            }
            for row in rows
        ]
    return [e for e in found if not prefixes or e["action"].startswith(prefixes)]


def run_import(uow: SqlUnitOfWork, clock: FakeClock, *sheets: Sheet) -> Any:
    return import_catalogue(uow, list(sheets), actor="officer:ani", clock=clock)


def test_an_import_records_each_created_producer_and_product_with_its_fields(
    sql_uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, clock: FakeClock
) -> None:
    run_import(sql_uow(), clock, PRODUCERS, products(KOPI, TENUN))
    found = events(engine, "product.", "producer.")
    assert [(e["action"], e["subject"], e["actor"]) for e in found] == [
        ("producer.created", "producer:IKM-NTT-001", "officer:ani"),
        ("producer.created", "producer:IKM-NTT-002", "officer:ani"),
        ("product.created", "sku:KOPI-FLR-001", "officer:ani"),
        ("product.created", "sku:TENUN-001", "officer:ani"),
    ]
    assert found[0]["before"] is None
    assert found[0]["after"] == {
        "code": "IKM-NTT-001",
        "name": "Koperasi Kopi Bajawa",
        "kind": "ikm",
        "province": "NTT",
        "regency": "Ngada",
        "sentra": None,
        "institution": None,
        "business_id": None,
    }
    assert found[2]["before"] is None
    assert found[2]["after"] == {
        "sku": "KOPI-FLR-001",
        "producer_code": "IKM-NTT-001",
        "name": "Kopi Bajawa 250 g",
        "description": "",
        "category": "",
        "price": 85000,
        "weight_grams": 270,
        "dimensions": None,
        "image_urls": [],
        "condition": "new",
        "status": "active",
        "provenance": "",
    }


def test_an_update_records_the_changed_fields_only_before_and_after(
    sql_uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, clock: FakeClock
) -> None:
    run_import(sql_uow(), clock, PRODUCERS, products(KOPI, TENUN))
    recorded = len(events(engine))
    renamed = Sheet(
        "producers.csv",
        PRODUCERS.header,
        [(2, ("IKM-NTT-001", "Koperasi Kopi Arabika Bajawa", "ikm", "NTT", "Ngada"))],
    )
    archived = (*KOPI[:3], "90000", KOPI[4], "archived", "")
    run_import(sql_uow(), clock, renamed, products(archived, TENUN))
    found = events(engine)[recorded:]
    assert [(e["action"], e["subject"]) for e in found] == [
        ("producer.updated", "producer:IKM-NTT-001"),
        ("product.updated", "sku:KOPI-FLR-001"),
    ]
    assert (found[0]["before"], found[0]["after"]) == (
        {"name": "Koperasi Kopi Bajawa"},
        {"name": "Koperasi Kopi Arabika Bajawa"},
    )
    # a status change is a product update like any other, with its own field
    assert (found[1]["before"], found[1]["after"]) == (
        {"price": 85000, "status": "active"},
        {"price": 90000, "status": "archived"},
    )
    run_import(sql_uow(), clock, renamed, products(archived, TENUN))
    assert len(events(engine)) == recorded + 2  # nothing changed, nothing recorded


def test_a_rejected_import_changes_nothing_and_records_nothing(
    sql_uow: Callable[[], SqlUnitOfWork],
    engine: sa.Engine,
    clock: FakeClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows checked only while the import writes (an unknown producer, planned
    chunk by chunk) come after events already inserted (a few at a time here):
    all go with the rollback."""
    monkeypatch.setattr(catalogue_service, "CHUNK_ROWS", 3)
    monkeypatch.setattr(audit_store, "WRITE_AT", 2)
    written: list[int] = []
    write = audit_store.write_pending

    def counted(session: Any) -> int:
        written.append(write(session))
        return written[-1]

    monkeypatch.setattr(audit_store, "write_pending", counted)
    run_import(sql_uow(), clock, PRODUCERS)
    before = snapshot(database_url)
    written.clear()
    good = [
        (f"SKU-{n:03}", "IKM-NTT-001", f"Barang {n}", "1000", "10", "", "")
        for n in range(7)
    ]
    bad = ("SKU-BAD", "IKM-NOPE-009", "Barang", "1000", "10", "", "")
    with pytest.raises(InputRejectedError, match="producer_code"):
        run_import(sql_uow(), clock, products(*good, bad))
    assert sum(written) >= 6  # the first chunks' events were inserted
    assert snapshot(database_url) == before


ACCOUNT = ChannelAccount(
    AccountId("shopee-ntt"),
    Marketplace.SHOPEE,
    "220011",
    (ProducerCode("IKM-NTT-001"),),
    AllocationPolicy(default=AllocationRule(share_percent=60, safety_buffer=1)),
    credentials_ref="shopee_main",
)


def test_accounts_apply_records_each_account_created_or_changed(
    sql_uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, clock: FakeClock
) -> None:
    run_import(sql_uow(), clock, PRODUCERS)
    with acting("officer:budi"):
        apply_accounts(sql_uow(), [ACCOUNT], clock=clock, source="ikm-sync.toml")
        apply_accounts(  # a dry run records nothing
            sql_uow(),
            [replace(ACCOUNT, enabled=False)],
            clock=clock,
            source="ikm-sync.toml",
            dry_run=True,
        )
    (created,) = events(engine, "account.")
    assert (created["actor"], created["subject"], created["account"]) == (
        "officer:budi",
        "account:shopee-ntt",
        "shopee-ntt",
    )
    assert created["before"] is None
    assert created["after"] == {
        "marketplace": "shopee",
        "shop_id": "220011",
        "producers": ["IKM-NTT-001"],
        "policy": {
            "default": {
                "share_percent": 60,
                "safety_buffer": 1,
                "cap": None,
                "min_to_list": 0,
            },
            "overrides": {},
            "excluded": [],
        },
        "credentials_ref": "shopee_main",
        "enabled": True,
    }
    changed = replace(
        ACCOUNT,
        producer_codes=(ProducerCode("IKM-NTT-002"),),
        policy=AllocationPolicy(
            default=AllocationRule(share_percent=60, safety_buffer=1),
            excluded=frozenset({"KOPI-FLR-001"}),
        ),
    )
    with acting("officer:budi"):
        apply_accounts(sql_uow(), [changed], clock=clock, source="ikm-sync.toml")
        apply_accounts(sql_uow(), [changed], clock=clock, source="ikm-sync.toml")
    _, updated = events(engine, "account.")  # the unchanged apply recorded nothing
    assert updated["before"] == {
        "producers": ["IKM-NTT-001"],
        "policy": {**created["after"]["policy"], "excluded": []},
    }
    assert updated["after"] == {
        "producers": ["IKM-NTT-002"],
        "policy": {**created["after"]["policy"], "excluded": ["KOPI-FLR-001"]},
        "producers_bound": ["IKM-NTT-002"],
        "producers_unbound": ["IKM-NTT-001"],
    }


def test_a_handover_is_recorded_on_both_accounts(
    sql_uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, clock: FakeClock
) -> None:
    """Which account publishes to a shop, and which orders each counts, is an
    account change like any other: the successor's creation carries it, and the
    account taken over records it as changed (nothing else of it changed)."""
    run_import(sql_uow(), clock, PRODUCERS)
    with acting("officer:budi"):
        apply_accounts(sql_uow(), [ACCOUNT], clock=clock, source="ikm-sync.toml")
    successor = replace(ACCOUNT, id=AccountId("tiktok-ntt"), shop_id="77")
    handover = Handover(ACCOUNT.id, successor.id, clock.now())
    taken_over, successor = (
        replace(ACCOUNT, handover=handover),
        replace(successor, handover=handover),
    )
    with acting("officer:budi"):
        apply_accounts(
            sql_uow(), [taken_over, successor], clock=clock, source="ikm-sync.toml"
        )
    _, changed, created = events(engine, "account.")
    recorded = {
        "predecessor": "shopee-ntt",
        "successor": "tiktok-ntt",
        "at": clock.now().isoformat(),
    }
    assert (changed["account"], changed["before"], changed["after"]) == (
        "shopee-ntt",
        {"handover": None},
        {"handover": recorded},
    )
    assert created["account"] == "tiktok-ntt"
    assert created["after"]["handover"] == recorded


def test_a_rejected_accounts_apply_records_nothing(
    sql_uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, clock: FakeClock
) -> None:
    run_import(sql_uow(), clock, PRODUCERS)
    unknown = replace(ACCOUNT, producer_codes=(ProducerCode("IKM-NOPE-001"),))
    with pytest.raises(InputRejectedError):
        apply_accounts(sql_uow(), [unknown], clock=clock, source="ikm-sync.toml")
    assert events(engine, "account.") == []


@pytest.fixture
def account(sql_uow: Callable[[], SqlUnitOfWork], clock: FakeClock) -> AccountId:
    run_import(sql_uow(), clock, PRODUCERS)
    apply_accounts(sql_uow(), [ACCOUNT], clock=clock, source="ikm-sync.toml")
    return ACCOUNT.id


def test_authorisations_marks_and_the_authorisation_end_are_recorded_without_tokens(
    engine: sa.Engine, clock: FakeClock, account: AccountId
) -> None:
    tokens = sql_token_store(make_session_factory(engine), clock)
    access_ends = clock.now() + timedelta(hours=4)
    granted = TokenSet(
        access_token=Secret("access-AAAA"),
        refresh_token=Secret("refresh-BBBB"),
        access_expires_at=access_ends,
        refresh_expires_at=clock.now() + timedelta(days=30),
    )
    with acting("officer:ani"), tokens.refreshing(account) as held:
        held.save(granted)
    with tokens.refreshing(account) as held:
        held.save(
            replace(held.current, needs_reauthorisation=True, reason="shop unlinked")
        )
    ends = clock.now() + timedelta(days=300)
    tokens.record_authorisation_expiry(account, ends)
    tokens.record_authorisation_expiry(account, ends)  # read again, unchanged
    found = events(engine, "account.authori", "account.reauth")
    assert [(e["action"], e["actor"], e["reason"]) for e in found] == [
        ("account.authorised", "officer:ani", ""),
        ("account.reauthorisation_needed", "system:unnamed", "shop unlinked"),
        ("account.authorisation_expiry", "system:unnamed", ""),
    ]
    assert found[0]["before"] == {
        "version": 0,
        "access_expires_at": None,
        "refresh_expires_at": None,
        "needs_reauthorisation": False,
    }
    assert found[0]["after"] == {
        "version": 1,
        "access_expires_at": timestamp(access_ends),
        "refresh_expires_at": timestamp(granted.refresh_expires_at or ends),
        "needs_reauthorisation": False,
    }
    assert (found[1]["before"]["version"], found[1]["after"]) == (
        1,
        {**found[0]["after"], "version": 2, "needs_reauthorisation": True},
    )
    assert found[2]["before"] == {"authorisation_expires_at": None}
    assert found[2]["after"] == {"authorisation_expires_at": timestamp(ends)}
    stored = repr(events(engine))
    assert "access-AAAA" not in stored
    assert "refresh-BBBB" not in stored


def test_a_token_save_the_database_refuses_records_nothing(
    engine: sa.Engine, clock: FakeClock, account: AccountId
) -> None:
    tokens = sql_token_store(make_session_factory(engine), clock)
    with tokens.refreshing(account) as held:
        held.save(TokenSet(access_token=Secret("one")))
    recorded = len(events(engine))
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE UPDATE ON account_tokens "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE UPDATE ON account_tokens "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    with pytest.raises(StoreError), tokens.refreshing(account) as held:
        held.save(TokenSet(access_token=Secret("two")))
    assert len(events(engine)) == recorded


def test_tokens_encrypted_again_are_recorded_without_tokens_or_keys(
    engine: sa.Engine, clock: FakeClock, account: AccountId
) -> None:
    tokens = sql_token_store(make_session_factory(engine), clock)
    with tokens.refreshing(account) as held:
        held.save(TokenSet(access_token=Secret("access-CCCC")))
    new_key = generate_key()
    rotating = SqlTokenStore(
        make_session_factory(engine), clock, TokenCipher([new_key, TEST_TOKEN_KEY])
    )
    with acting("officer:ani"):
        assert rotating.reencrypt() == 1
    (event,) = events(engine, "account.tokens_reencrypted")
    assert (event["actor"], event["subject"], event["account"]) == (
        "officer:ani",
        "account:shopee-ntt",
        "shopee-ntt",
    )
    assert (event["before"], event["after"]) == (None, {"version": 1})
    stored = repr(events(engine))
    for secret in ("access-CCCC", new_key, TEST_TOKEN_KEY):
        assert secret not in stored
