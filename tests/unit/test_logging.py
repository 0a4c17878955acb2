"""Logging: one chain for structlog and stdlib, JSON off a terminal, secrets masked."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import sqlalchemy as sa
import structlog

from config.logging import MASK, SecretRedactor, configure_logging
from core.store.db import make_engine


def test_json_lines_off_a_terminal_with_stable_fields() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "auto", stream=stream)
    structlog.get_logger("ikm.test").info("stock.adjusted", sku="KOPI-1", delta=-2)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "stock.adjusted"
    assert (line["sku"], line["delta"], line["level"]) == ("KOPI-1", -2, "info")
    assert line["timestamp"].endswith("Z")


def test_console_format_when_asked() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream)
    structlog.get_logger().info("db.upgraded", after="0001")
    assert "db.upgraded" in stream.getvalue()
    assert not stream.getvalue().lstrip().startswith("{")


def test_secret_keys_and_secret_values_are_masked_everywhere() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", secret_values=["pk-live-abcdef"], stream=stream)
    log = structlog.get_logger()
    log.info("token.refreshed", access_token="at-123", nested={"partner_key": "x1234"})
    log.info("request.sent", url="https://h/api?partner_key=pk-live-abcdef&sign=zz")
    try:
        _fail_with("bad key pk-live-abcdef")
    except ValueError:
        log.exception("command.failed")
    logging.getLogger("httpx").warning("GET /x?key=%s", "pk-live-abcdef")
    text = stream.getvalue()
    assert "pk-live-abcdef" not in text
    assert "at-123" not in text
    assert "x1234" not in text
    assert text.count(MASK) >= 5
    assert len(text.strip().splitlines()) == 4


def _fail_with(message: str) -> None:
    raise ValueError(message)


def test_levels_below_the_threshold_are_dropped() -> None:
    stream = io.StringIO()
    configure_logging("WARNING", "json", stream=stream)
    structlog.get_logger().info("catalog.imported")
    structlog.get_logger().warning("catalog.import_rejected")
    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == [
        "catalog.import_rejected"
    ]


def test_redact_text_masks_longest_secret_first() -> None:
    redactor = SecretRedactor(["abcd", "abcdefgh", "xy"])
    assert redactor.redact_text("key=abcdefgh other=abcd short=xy") == (
        f"key={MASK} other={MASK} short=xy"
    )


def test_http_library_debug_lines_stay_out_even_at_debug() -> None:
    # httpx and httpcore log request lines and headers at DEBUG: signed URLs and
    # bearer tokens no redactor can recognise.
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    logging.getLogger("httpx").debug("HTTP Request: GET /api?access_token=raw")
    logging.getLogger("httpcore.http11").debug("send_request_headers.started")
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["SELECT 1"]


def test_database_rows_and_values_stay_out_of_debug_lines(tmp_path: Path) -> None:
    # SQLAlchemy logs result rows at DEBUG and statement values at INFO: stored
    # tokens would be printed by `--log-level debug`.
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("CREATE TABLE t (token TEXT)"))
            connection.execute(
                sa.text("INSERT INTO t VALUES (:token)"), {"token": "tok-in-value"}
            )
            connection.execute(sa.text("INSERT INTO t VALUES ('tok-in-row')"))
            rows = connection.execute(sa.text("SELECT token FROM t")).all()
            # A logger set to DEBUG by hand still prints no row.
            logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.DEBUG)
            again = connection.execute(sa.text("SELECT token FROM t")).all()
    finally:
        logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.NOTSET)
        engine.dispose()
    assert rows == again == [("tok-in-value",), ("tok-in-row",)]
    logged = stream.getvalue()
    events = [json.loads(line)["event"] for line in logged.splitlines()]
    assert "SELECT token FROM t" in events  # statements are still shown at DEBUG
    assert "tok-in-value" not in logged
    assert logged.count("tok-in-row") == 1  # the INSERT statement's text only
