"""How the sync commands show their runs: the table, and where a failure's items are."""

from __future__ import annotations

import pytest

from core.domain.ids import AccountId
from core.domain.sync import RunOutcome, SyncKind
from core.services.runs import RunReport
from ikm_sync.commands.sync import print_reports


def report(account: str, run_id: int, outcome: RunOutcome, **counts: int) -> RunReport:
    return RunReport(AccountId(account), SyncKind.PUBLISH, run_id, outcome, counts)


def test_failed_and_partial_runs_point_at_runs_show_with_their_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_reports(
        "Push",
        [
            report("bukalapak-ikm", 6, RunOutcome.PARTIAL, update_failed=1, stock=2),
            report("shopee-flores", 4, RunOutcome.FAILED, create_failed=1),
            report("tokopedia-lapas", 5, RunOutcome.SUCCEEDED, update=1),
        ],
    )
    out = capsys.readouterr().out
    assert "create_failed 1" in out
    assert "`ikm-sync runs show RUN` lists each item's error (run 6, 4)" in out


def test_runs_that_went_through_or_never_started_add_no_pointer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_reports(
        "Push",
        [
            report("tokopedia-lapas", 5, RunOutcome.SUCCEEDED, update=1),
            report("shopee-flores", 0, RunOutcome.FAILED),  # no run recorded
        ],
    )
    out = capsys.readouterr().out
    assert "tokopedia-lapas" in out
    assert "runs show" not in out
