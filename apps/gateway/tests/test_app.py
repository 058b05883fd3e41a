"""The app end to end, as CI runs it: `python src/app.py` against a real driver-sim.

Self-contained (only pytest and the gateway's own dependencies): run with
`pytest tests/test_app.py` inside apps/gateway, installed or not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
APP = APP_DIR / "src" / "app.py"
DEVICES, COUNT = 4, 6


def child_env(**extra: str) -> dict[str, str]:
    """Children import the package from src/ even when it is not installed."""
    path = os.pathsep.join(filter(None, [str(APP_DIR / "src"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def wait_for_file(path: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text()


def http_get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_help_runs_from_source() -> None:
    result = subprocess.run(
        [sys.executable, str(APP), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "replay" in result.stdout
    assert "run" in result.stdout


@pytest.mark.slow
def test_driver_sim_to_gateway_to_spool_with_health_and_metrics(pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sim_cmd = [
        sys.executable, "-m", "powerwatch_gateway.driver_sim", "--port", "0",
        "--port-file", str(tmp_path / "driver.port"), "--ca", str(pki.ca),
        "--cert", str(pki.server.cert), "--key", str(pki.server.key),
        "--devices", str(DEVICES), "--rate", "10", "--count", str(COUNT),
        "--wait-for-client", "--bad-line-rate", "0.25", "--seed", "4",
    ]  # fmt: skip
    with (tmp_path / "sim.log").open("ab") as log:
        sim = subprocess.Popen(sim_cmd, env=child_env(), stdout=log, stderr=log)
    try:
        driver_port = wait_for_file(tmp_path / "driver.port")
        gateway_env = child_env(
            GATEWAY_DRIVER_HOST="127.0.0.1",
            GATEWAY_DRIVER_PORT=driver_port,
            GATEWAY_DRIVER_CA_FILE=str(pki.ca),
            GATEWAY_DRIVER_CERT_FILE=str(pki.client.cert),
            GATEWAY_DRIVER_KEY_FILE=str(pki.client.key),
            GATEWAY_DATA_DIR=str(tmp_path / "data"),
            GATEWAY_HTTP_PORT="0",
            GATEWAY_HTTP_PORT_FILE=str(tmp_path / "http.port"),
            GATEWAY_BATCH_INTERVAL_S="0.05",
        )
        with (tmp_path / "gateway.log").open("ab") as log:
            gateway = subprocess.Popen(
                [sys.executable, str(APP)], env=gateway_env, stdout=log, stderr=log
            )
        try:
            port = int(wait_for_file(tmp_path / "http.port"))
            assert http_get(port, "/healthz")[0] == 200
            deadline = time.monotonic() + 30
            while True:
                text = http_get(port, "/metrics")[1].decode()
                accepted = metric(text, "powerwatch_gateway_readings_accepted_total")
                rejected = metric(text, "powerwatch_gateway_readings_rejected_total")
                spooled = metric(text, "powerwatch_gateway_readings_spooled_total")
                if accepted + rejected == DEVICES * COUNT and spooled == accepted:
                    break
                assert time.monotonic() < deadline, text
                time.sleep(0.1)
            status, body = http_get(port, "/readyz")
            assert json.loads(body)["spool_writable"] is True
            assert status in (200, 503)  # 503 once driver-sim has finished and closed
            gateway.send_signal(signal.SIGTERM)
            assert gateway.wait(20) == 0
        finally:
            if gateway.poll() is None:
                gateway.kill()
                gateway.wait()
    finally:
        if sim.poll() is None:
            sim.terminate()
        sim.wait(20)

    assert 0 < accepted < DEVICES * COUNT
    assert rejected > 0
    segments = sorted((tmp_path / "data" / "spool" / "segments").iterdir())
    records = [json.loads(line) for s in segments for line in s.read_bytes().splitlines()]
    assert len(records) == accepted
    assert {r["device_id"] for r in records} <= {f"drv-{i:02d}" for i in range(1, DEVICES + 1)}
    assert len({r["reading_id"] for r in records}) == len(records)
    for record in records:
        assert set(record) == {
            "reading_id",
            "device_id",
            "ts",
            "voltage",
            "current",
            "seq",
            "received_at",
        }
        assert 200 < record["voltage"] < 260
        assert record["current"] >= 0
    letters = (tmp_path / "data" / "dead-letter.ndjson").read_bytes().splitlines()
    assert len(letters) == rejected
    assert all(json.loads(x)["reason"] for x in letters)


def test_replay_through_the_seed_entry_point(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text(
        '{"device_id":"r1","ts":"2026-01-01T00:00:00Z","voltage":230.1,"current":3.5,"seq":1}\n'
        '{"device_id":"r1","ts":"2026-01-01T00:00:01Z","voltage":"high","current":3.5,"seq":2}\n'
    )
    result = subprocess.run(
        [sys.executable, str(APP), "replay", str(source), "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=60, check=False, env=child_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, {"wrong_type": 1})
