"""Through a demo-like flow on the simulators (import, accounts apply, authorise,
sync cycles, token refreshes, the authorisation's end read): who acts in each job's
events, and no secret in any event."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from core.audit.events import acting
from core.audit.query import EventFilter, Period
from core.catalogue.sheets import Sheet
from core.domain.accounts import AllocationPolicy, AllocationRule, Marketplace
from core.domain.triggers import SCHEDULE, manual
from core.services.accounts import apply_accounts
from core.services.audit_read import (
    audit_log,
    event_record,
    event_row,
    export_runs,
    run_item_rows,
    run_record,
)
from core.services.authorisation import check_authorisation
from core.services.catalogue import import_catalogue
from core.store.audit_read import SqlAuditReader, SqlRunArchive
from core.store.db import make_session_factory
from tests.fakes import TEST_TOKEN_KEY, sql_token_store
from tests.integration.test_audit_changes import events
from tests.sync.world import SHOPEE, World

pytestmark = [pytest.mark.db, pytest.mark.slow]

PLANTED_PARTNER_KEY = "shpk-PLANTED-partner-key-9f3e1d7c-never-in-an-event"


def _refreshed_in(engine: sa.Engine, since: int) -> list[tuple[str, str]]:
    """(account, actor) of the token saves recorded after the first ``since``."""
    return [
        (e["account"], e["actor"])
        for e in events(engine)[since:]
        if e["action"] == "account.authorised"
    ]


def test_a_manual_run_acts_as_its_officer_and_a_scheduled_one_as_the_scheduler(
    engine: sa.Engine,
) -> None:
    """Token refreshes inside jobs, in the runner's worker threads."""
    world = World.build(engine)
    shopee = world.sims[Marketplace.SHOPEE]
    for trigger, actor in (
        (manual("officer:ani"), "officer:ani"),
        (SCHEDULE, "system:scheduler"),
        (manual("cli:budi"), "cli:budi"),
    ):
        seen = len(events(engine))
        shopee.revoke_access_tokens()  # type: ignore[attr-defined]
        with acting("officer:somebody-else"):  # the caller's thread only
            assert world.cycle(trigger=trigger, workers=3).ok
        saved = _refreshed_in(engine, seen)
        assert (SHOPEE, actor) in saved
        assert {who for _, who in saved} == {actor}


def _secrets_of(world: World) -> set[str]:
    """Every credential the connectors sign with and every token ever stored."""
    found = {TEST_TOKEN_KEY}
    for sim in world.sims.values():
        found |= {
            str(value)
            for name, value in sim.credentials().items()
            if "secret" in name or "key" in name
        }
    tokens = sql_token_store(make_session_factory(world.engine), world.clock)
    for account in world.accounts:
        stored = tokens.load(account.id)
        found |= {t.reveal() for t in (stored.access_token, stored.refresh_token) if t}
    return found


def _stored_events(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(r) for r in connection.execute(sa.text("SELECT * FROM audit_events"))
        ]


def test_a_planted_secret_appears_in_no_event(engine: sa.Engine) -> None:
    world = World.build(engine)
    shopee = world.sims[Marketplace.SHOPEE]
    shopee.partner_key = PLANTED_PARTNER_KEY  # type: ignore[attr-defined]
    secrets = _secrets_of(world)
    uow = world.uow
    with acting("officer:ani"):
        import_catalogue(
            uow(),
            [
                Sheet(
                    "products.csv",
                    ("sku", "producer_code", "name", "price", "weight_grams"),
                    [
                        (
                            2,
                            (
                                "KOPI-0001",
                                "IKM-NTT-001",
                                "Kopi Arabika Flores 0001",
                                "99000",
                                "300",
                            ),
                        )
                    ],
                )
            ],
            actor="officer:ani",
            clock=world.clock,
        )
        policy = AllocationPolicy(default=AllocationRule(share_percent=50))
        apply_accounts(
            uow(),
            [replace(a, policy=policy) for a in world.accounts],
            clock=world.clock,
            source="ikm-sync.toml",
        )
        world.authorise()
        secrets |= _secrets_of(world)
        assert world.cycle(trigger=manual("officer:ani"), workers=3).ok
    shopee.revoke_access_tokens()  # type: ignore[attr-defined]
    world.advance(6 * 3600)  # every access token expires: all refresh
    assert world.cycle(trigger=SCHEDULE, workers=3).ok
    secrets |= _secrets_of(world)
    tokens = sql_token_store(make_session_factory(engine), world.clock)
    for account in world.accounts:
        check_authorisation(
            world.connector(account), tokens, account.id, clock=world.clock
        )
    secrets |= _secrets_of(world)
    issued = {*shopee.grants_by_access, *shopee.grants_by_refresh}  # type: ignore[attr-defined]
    secrets |= issued

    actions = {e["action"] for e in events(engine)}
    assert {
        "product.updated",
        "account.applied",
        "account.authorised",
        "account.authorisation_expiry",
    } <= actions
    assert PLANTED_PARTNER_KEY in secrets
    assert all(len(s) >= 16 for s in secrets)  # distinctive: no chance match
    stored = repr(_stored_events(engine))
    leaked = sorted(s for s in secrets if s in stored)
    assert leaked == []
    # nor in the auditor's exports: the audit log's rows and records, the runs
    # export with every item and value sent
    sessions = make_session_factory(engine)
    exported = [
        [*event_row(e), json.dumps(event_record(e))]
        for e in audit_log(SqlAuditReader(sessions), EventFilter())
    ]
    runs = list(export_runs(SqlRunArchive(sessions), Period()))
    assert exported
    assert runs
    assert any(item.sent for run in runs for item in run.items)
    text = repr(exported) + repr(
        [(run_record(r), list(run_item_rows(r))) for r in runs]
    )
    assert sorted(s for s in secrets if s in text) == []
