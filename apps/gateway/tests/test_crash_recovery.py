"""kill -9 of a real gateway process mid-stream, then a restart: nothing is lost.

The Driver stand-in serves the same 3,000 readings on every connection (as a
Driver that re-sends after a reconnect would). The gateway process is killed
with SIGKILL while readings are flowing, then started again on the same data
directory. Afterwards the spool must hold every reading id exactly as
expected, and everything that was durable before the kill must still be there
unchanged (a prefix of the spool).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from powerwatch_gateway.model import reading_id

TOTAL = 3000
DEVICES = 10


def dataset(make_line) -> list[bytes]:  # type: ignore[no-untyped-def]
    return [make_line(f"k9-{i % DEVICES}", i // DEVICES, i // DEVICES) for i in range(TOTAL)]


def expected_ids() -> set[str]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        reading_id(f"k9-{i % DEVICES}", base + timedelta(seconds=i // DEVICES), i // DEVICES)
        for i in range(TOTAL)
    }


def start_gateway(tmp: Path, pki, port: int) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "GATEWAY_DRIVER_HOST": "127.0.0.1",
        "GATEWAY_DRIVER_PORT": str(port),
        "GATEWAY_DRIVER_CA_FILE": str(pki.ca),
        "GATEWAY_DRIVER_CERT_FILE": str(pki.client.cert),
        "GATEWAY_DRIVER_KEY_FILE": str(pki.client.key),
        "GATEWAY_DATA_DIR": str(tmp / "data"),
        "GATEWAY_HTTP_PORT": "0",
        "GATEWAY_BATCH_INTERVAL_S": "0.05",
        "GATEWAY_BATCH_MAX": "100",
        "GATEWAY_BACKOFF_INITIAL_S": "0.05",
        "GATEWAY_BACKOFF_MAX_S": "0.2",
    }
    with (tmp / "gateway.log").open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "powerwatch_gateway", "run"], env=env, stdout=log, stderr=log
        )


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_loses_nothing(
    pki, tls_driver, make_line, spool_lines, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    lines = dataset(make_line)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for start in range(0, TOTAL, 40):  # ~2,000 readings/s: the kill lands mid-stream
            writer.write(b"\n".join(lines[start : start + 40]) + b"\n")
            await writer.drain()
            await asyncio.sleep(0.02)
        await asyncio.sleep(120)

    spool = tmp_path / "data" / "spool"
    with tls_driver(handler) as driver:
        first = start_gateway(tmp_path, pki, driver.port)
        try:
            wait_for(lambda: len(spool_lines(spool)) >= 600, 30, "first readings")
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        assert first.returncode == -signal.SIGKILL
        before = spool_lines(spool)
        assert 600 <= len(before) < TOTAL, "the kill must happen mid-stream"

        second = start_gateway(tmp_path, pki, driver.port)
        try:

            def complete() -> bool:
                ids = {msgspec.json.decode(x)["reading_id"] for x in spool_lines(spool)}
                return len(ids) == TOTAL

            wait_for(complete, 60, "all readings after restart")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0  # graceful stop: flushes and exits cleanly

    after = spool_lines(spool)
    assert after[: len(before)] == before  # what was durable survived, byte for byte
    ids = [msgspec.json.decode(x)["reading_id"] for x in after]
    assert set(ids) == expected_ids()  # count and ids: every reading, no stranger
    assert len(ids) >= TOTAL  # duplicates allowed (at least once), de-duplicated by id downstream
    assert not list((spool / "segments").glob("*.open"))  # clean stop sealed the segment
