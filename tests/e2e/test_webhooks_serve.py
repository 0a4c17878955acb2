"""``ikm-sync serve --webhooks-only --ops-port``: the receivers served alone in their
own process, without the console, with their metrics, and no secret in the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.test_simulate import IKM_SYNC
from tests.fakes import TEST_TOKEN_KEY

pytestmark = [pytest.mark.db, pytest.mark.slow]

DEMO = REPO / "demo"
READY_WITHIN = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        try:  # waits a little, and notices a server that died
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"serve exited: {log.read_text()[-2000:]}")
    raise AssertionError(f"serve did not answer in {READY_WITHIN} s: {log}")


def test_the_receivers_served_alone(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    env |= {"IKMSYNC_DATABASE_URL": database_url, "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY}
    port, ops_port = _free_port(), _free_port()
    log = tmp_path / "serve.log"
    command = [IKM_SYNC, "--config", str(DEMO / "ikm-sync.toml"), "serve"]
    command += ["--webhooks-only", "--no-process-webhooks"]
    command += ["--port", str(port), "--ops-port", str(ops_port)]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=tmp_path
        )
    key = (DEMO / "secrets" / "credentials__shopee_demo__partner_key").read_text()
    key = key.strip()
    try:
        _wait_until_ready(process, f"http://127.0.0.1:{ops_port}", log)
        url = f"http://127.0.0.1:{port}/webhooks/shopee"
        message = {"shop_id": 265220111, "code": 3, "timestamp": 1, "data": {}}
        body = json.dumps(message).encode()
        signed = hmac.new(key.encode(), url.encode() + b"|" + body, hashlib.sha256)
        answers = [
            httpx.post(url, content=body, headers={"Authorization": s}, timeout=10)
            for s in (signed.hexdigest(), signed.hexdigest(), key)
        ]
        assert [a.status_code for a in answers] == [200, 200, 401]
        assert [a.json()["result"] for a in answers[:2]] == ["stored", "duplicate"]
        assert httpx.get(f"http://127.0.0.1:{port}/login").status_code == 404
        metrics = httpx.get(f"http://127.0.0.1:{ops_port}/metrics").text
        for result, count in (
            ("received", 3),
            ("verified", 2),
            ("duplicate", 1),
            ("refused", 1),
        ):
            line = (
                "ikm_sync_webhook_deliveries_total"
                f'{{marketplace="shopee",result="{result}"}} {count}.0'
            )
            assert line in metrics
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log.read_text()
    assert "webhook.refused" in text
    assert key not in text
