"""``ikm-sync simulate`` as a real process: it listens, answers, stops, keeps state."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

IKM_SYNC = str(Path(sys.executable).with_name("ikm-sync"))


def _read_announcement(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The JSON document ``--json`` prints once every simulator listens."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if line.rstrip() == "}":
            return json.loads("".join(lines))  # type: ignore[no-any-return]
    raise AssertionError("no announcement; see stderr.log in the test's directory")


@pytest.fixture
def simulate(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "-m", "tokopedia", "-m", "bukalapak"]
    command += [
        "--port",
        "tokopedia=0",
        "--port",
        "bukalapak=0",
        "--pictures-port",
        "0",
    ]
    command += ["--state", str(tmp_path / "sim.json"), "--json", "--duration", "60"]
    with (tmp_path / "stderr.log").open("w") as errors:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=environment,
            cwd=tmp_path,
        )
        try:
            yield process, _read_announcement(process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()


def test_simulators_listen_answer_and_keep_their_state(
    simulate: tuple[subprocess.Popen[str], dict[str, Any]], tmp_path: Path
) -> None:
    process, announced = simulate
    servers = {item["marketplace"]: item for item in announced["simulators"]}
    assert set(servers) == {"tokopedia", "bukalapak"}
    tokopedia = servers["tokopedia"]
    credentials = tokopedia["credentials"]
    basic = base64.b64encode(
        f"{credentials['client_id']}:{credentials['client_secret']}".encode()
    ).decode()
    with httpx.Client(base_url=tokopedia["url"], timeout=10) as http:
        token = http.post(
            "/token",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert token.status_code == 200
        assert token.json()["token_type"] == "Bearer"
        wrong = http.post(
            "/token",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + base64.b64encode(b"x:y").decode()},
        )
        assert wrong.status_code == 401
        counted = http.get("/_sim/requests").json()["requests"]
        assert counted["token"] == 2
    with httpx.Client(base_url=announced["pictures"], timeout=10) as http:
        jpeg = http.get("/KOPI-FLR-001/1.jpg")
        assert jpeg.headers["content-type"] == "image/jpeg"
        assert jpeg.content.startswith(b"\xff\xd8\xff")
        assert http.get("/KOPI-FLR-001/notes.txt").status_code == 404
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    for key in ("tokopedia", "bukalapak"):
        saved = json.loads((tmp_path / f"sim.{key}.json").read_text())
        assert saved["marketplace"] == key


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_curl_example() -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- curl-example:start -->", 1)[1].split(
        "<!-- curl-example:end -->", 1
    )[0]
    return block.split("```sh", 1)[1].rsplit("```", 1)[0]


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "openssl")),
    reason="needs bash, curl and openssl",
)
def test_the_readme_curl_example_gets_a_signed_answer(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "-m", "shopee", "--port", "shopee=0"]
    command += ["--json", "--duration", "60", "--pictures-port", "-1"]
    with (tmp_path / "stderr.log").open("w") as errors:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
        try:
            (shopee,) = _read_announcement(process)["simulators"]
            credentials = shopee["credentials"]
            script = _readme_curl_example()
            assert f"PARTNER_ID={credentials['partner_id']}" in script
            assert f"PARTNER_KEY={credentials['partner_key']}" in script
            result = subprocess.run(  # noqa: S603  (bash running the README's example)
                ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
                env={**environment, "HOST": shopee["url"]},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            process.kill()
            process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["error"] == ""
    assert answer["response"]["item"] == []
