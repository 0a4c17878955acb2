"""The test-only clock offset (``IKMSYNC_TEST_CLOCK_OFFSET_SECONDS``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.settings import CLOCK_OFFSET_ENV, load_settings
from core.clock import SystemClock
from core.errors import ConfigError
from ikm_sync.bootstrap import clock_offset


def test_a_system_clock_with_an_offset_reads_that_far_ahead() -> None:
    before = datetime.now(UTC)
    read = SystemClock(timedelta(minutes=10)).now()
    after = datetime.now(UTC)
    assert before + timedelta(minutes=10) <= read <= after + timedelta(minutes=10)


def test_the_offset_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(CLOCK_OFFSET_ENV, raising=False)
    assert clock_offset() == timedelta(0)
    monkeypatch.setenv(CLOCK_OFFSET_ENV, "600")
    assert clock_offset() == timedelta(minutes=10)
    monkeypatch.setenv(CLOCK_OFFSET_ENV, "ten minutes")
    with pytest.raises(ConfigError, match=CLOCK_OFFSET_ENV):
        clock_offset()


def test_the_variable_is_no_unknown_setting() -> None:
    loaded = load_settings(None, environ={CLOCK_OFFSET_ENV: "600"})
    assert loaded.settings is not None
