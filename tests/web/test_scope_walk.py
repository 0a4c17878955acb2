"""Every route and action of the console, walked as an officer of one province
against another province's data: everything refused, nothing changed, nothing
exported; every changing request without its CSRF token refused; an auditor may
change nothing.

The routes come from the application itself (``web.app.ROUTERS``), so a page added
later is walked too; a path parameter this walk cannot fill fails the test, naming
it, rather than being skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from sqlmodel import col
from starlette.testclient import TestClient

from core.store.tables import (
    ChannelAccountRow,
    ListingRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    SyncRunItemRow,
    SyncRunRow,
    table_of,
)
from tests.web.conftest import NTT, ConsoleWorld
from tests.web.kit import sign_in
from web.app import ROUTERS
from web.security import SAFE_METHODS

pytestmark = pytest.mark.db

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
#: Answers that refuse: forbidden, not found (out of scope looks like missing), or
#: a form this walk did not fill as the page wants (refused before anything is
#: looked up, so it tells nothing of the other province's data).
REFUSED = frozenset({403, 404, 422})
#: Routes every signed-in user may use on themselves.
OWN = frozenset({"/login", "/logout", "/language"})
#: Text that only NTT's data holds (never a value this walk sends).
NTT_MARKERS = (
    "Flores Bajawa",
    "Tenun Ikat Sikka",
    "TENUN-SKA",
    "Koperasi Kopi",
    "265220111",
)
#: NTT's identifiers, by the kind of path parameter they fill.
NTT_QUERY = {
    "sku": "KOPI-FLR-001",
    "account": "shopee-ntt-flores",
    "producer": "IKM-NTT-001",
    "province": NTT,
    "q": "Kopi",
    "subject": "sku:KOPI-FLR-001",
}
#: Tables a refused request must leave as they were (audit events apart from
#: sign-ins are counted separately).
WATCHED = (
    "producers",
    "products",
    "stock_movements",
    "channel_accounts",
    "channel_account_producers",
    "listings",
    "orders",
    "order_lines",
    "sync_runs",
    "sync_run_items",
    "account_tokens",
    "account_leases",
    "users",
)


def _routes() -> Iterator[tuple[str, str]]:
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods or ()):
                    if method != "HEAD":
                        yield method, route.path


def _plant(world: ConsoleWorld) -> dict[str, str]:
    """An NTT order (oversold), run with an item, and failed listing; their ids."""
    with world.console.runtime.session_factory() as session:
        account = session.execute(
            sa.select(col(ChannelAccountRow.id)).where(
                col(ChannelAccountRow.account_key) == "shopee-ntt-flores"
            )
        ).scalar_one()
        product = session.execute(
            sa.select(col(ProductRow.id)).where(col(ProductRow.sku) == "KOPI-FLR-001")
        ).scalar_one()
        order = OrderRow(
            account_id=account,
            external_id="SHP-NTT-WALK",
            status="paid",
            raw_status="READY_TO_SHIP",
            total_amount=100_000,
            oversold=True,
            placed_at=AT,
            first_seen_at=AT,
            updated_at=AT,
        )
        run = SyncRunRow(
            kind="publish",
            account_id=account,
            trigger="schedule",
            started_at=AT,
            finished_at=AT,
            outcome="failed",
            counts={"failed": 1},
        )
        session.add_all([order, run])
        session.flush()
        assert order.id is not None
        assert run.id is not None
        session.add(
            OrderLineRow(
                order_id=order.id,
                line_no=1,
                product_id=product,
                external_sku="KOPI-FLR-001",
                quantity=2,
                unit_price=50_000,
            )
        )
        session.add(
            SyncRunItemRow(
                run_id=run.id,
                subject="sku:KOPI-FLR-001",
                operation="create",
                ok=False,
                error_code="category",
                error_message="Flores Bajawa refused",
                at=AT,
            )
        )
        session.execute(
            sa.insert(table_of(ListingRow)),
            [
                {
                    "account_id": account,
                    "product_id": product,
                    "state": "failed",
                    "last_error": "refused",
                    "created_at": AT,
                    "updated_at": AT,
                }
            ],
        )
        session.commit()
        return {
            "order": "SHP-NTT-WALK",
            "order_id": str(order.id),
            "run": str(run.id),
        }


def _value(name: str, planted: dict[str, str]) -> str:
    lowered = name.lower()
    for key, value in (
        ("sku", "KOPI-FLR-001"),
        ("account", "shopee-ntt-flores"),
        ("shop", "shopee-ntt-flores"),
        ("user", "officer.ntt"),
        ("producer", "IKM-NTT-001"),
        ("code", "IKM-NTT-001"),
        ("external", planted["order"]),
        ("order", planted["order"]),
        ("run", planted["run"]),
        ("event", "1"),
    ):
        if key in lowered:
            return value
    if lowered == "id":
        return planted["run"]
    raise AssertionError(f"the walk cannot fill the path parameter {{{name}}}")


def _path(template: str, planted: dict[str, str]) -> str:
    return re.sub(
        r"\{([^}:]+)(:[^}]*)?\}", lambda m: _value(m.group(1), planted), template
    )


def _snapshot(world: ConsoleWorld) -> dict[str, str]:
    digests: dict[str, str] = {}
    with world.console.runtime.engine.connect() as connection:
        for name in WATCHED:
            table = sa.table(name)
            rows = connection.execute(
                sa.select(sa.text("*")).select_from(table).order_by(sa.text("1"))
            ).all()
            digests[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        digests["audit_events"] = str(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM audit_events WHERE action NOT LIKE 'user.%'"
                )
            ).scalar_one()
        )
    return digests


def _form(planted: dict[str, str], token: str | None) -> dict[str, str]:
    data = {
        **NTT_QUERY,
        "delta": "-1",
        "reason": "walk",
        "note": "walk",
        "role": "admin",
        "password": "walk-password-123",
        "username": "walker",
        "share_percent": "100",
        "language": "en",
        "external_id": planted["order"],
        "order": planted["order"],
    }
    if token is not None:
        data["csrf_token"] = token
    return data


def _leaks(text: str) -> list[str]:
    return [marker for marker in NTT_MARKERS if marker in text]


def test_an_officer_of_one_province_can_reach_nothing_of_another(
    console_world: ConsoleWorld,
) -> None:
    planted = _plant(console_world)
    officer: TestClient = console_world.client
    token = sign_in(officer, "officer.lapas")
    before = _snapshot(console_world)
    walked: list[str] = []
    problems: list[str] = []
    for method, template in _routes():
        if template in OWN or template.startswith("/static"):
            continue
        path = _path(template, planted)
        has_params = "{" in template
        if method in SAFE_METHODS:
            answer = officer.get(path, params=NTT_QUERY, follow_redirects=False)
            if has_params and answer.status_code not in (403, 404):
                problems.append(
                    f"GET {path}: {answer.status_code}, expected 403 or 404"
                )
            elif answer.status_code == 200 and (leaked := _leaks(answer.text)):
                problems.append(f"GET {path}: shows NTT's {leaked}")
            elif answer.status_code >= 500:
                problems.append(f"GET {path}: {answer.status_code}")
        else:
            answer = officer.request(
                method,
                path,
                data=_form(planted, token),
                files={"file": ("ntt.csv", b"sku\nKOPI-FLR-001\n", "text/csv")}
                if "import" in template or "upload" in template
                else None,
                follow_redirects=False,
            )
            if has_params and answer.status_code not in REFUSED:
                problems.append(
                    f"{method} {path}: {answer.status_code}, expected 403/404"
                )
            elif answer.status_code < 400 and answer.status_code != 200:
                problems.append(f"{method} {path}: {answer.status_code} (accepted?)")
            elif answer.status_code == 200 and (leaked := _leaks(answer.text)):
                problems.append(f"{method} {path}: shows NTT's {leaked}")
            now = _snapshot(console_world)
            changed = [name for name in now if now[name] != before[name]]
            if changed:
                problems.append(f"{method} {path}: changed {changed}")
                before = now
        walked.append(f"{method} {template}")
    assert not problems, "\n".join(problems)
    assert len(walked) >= 8, walked


def test_a_changing_request_without_its_csrf_token_is_refused_everywhere(
    console_world: ConsoleWorld,
) -> None:
    planted = _plant(console_world)
    admin = console_world.client
    sign_in(admin, "admin")
    before = _snapshot(console_world)
    problems = []
    for method, template in _routes():
        if method in SAFE_METHODS:
            continue
        path = _path(template, planted)
        answer = admin.request(
            method, path, data=_form(planted, None), follow_redirects=False
        )
        if answer.status_code != 403:
            problems.append(f"{method} {path}: {answer.status_code}, expected 403")
    assert not problems, "\n".join(problems)
    assert _snapshot(console_world) == before


def test_an_auditor_changes_nothing_anywhere(console_world: ConsoleWorld) -> None:
    planted = _plant(console_world)
    auditor = console_world.client
    token = sign_in(auditor, "auditor")
    before = _snapshot(console_world)
    problems = []
    for method, template in _routes():
        if method in SAFE_METHODS or template in OWN:
            continue
        if template.startswith("/audit"):
            continue  # the auditor's own actions (verify, export) change no data
        path = _path(template, planted)
        answer = auditor.request(
            method, path, data=_form(planted, token), follow_redirects=False
        )
        if answer.status_code not in REFUSED:
            problems.append(f"{method} {path}: {answer.status_code}, expected 403")
    assert not problems, "\n".join(problems)
    assert _snapshot(console_world) == before
