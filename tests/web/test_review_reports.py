"""Review findings on the reports' exports: the file name carries the period as
dates only, whatever whitespace the query held around them."""

from __future__ import annotations

import pytest

from tests.web.conftest import ConsoleWorld
from tests.web.kit import sign_in

pytestmark = pytest.mark.db


def test_an_export_names_its_period_without_the_query_s_whitespace(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.ntt")
    answer = client.get(
        "/reports/export",
        params={"since": " 2026-12-01\r\n", "until": "\t2026-12-07 "},
    )
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == (
        'attachment; filename="ikm-sync-figures-2026-12-01-2026-12-07.csv"'
    )
