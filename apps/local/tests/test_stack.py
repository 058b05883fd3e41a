"""`make up`'s command: the whole platform starts, shows readings and events through the
API, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
def test_one_command_runs_the_platform_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    stack = subprocess.Popen(
        [sys.executable, "-m", "powerwatch_local.stack", "--state-dir", str(state),
         "--every", "1", "--api-port", "0", "--http-port", "0", "--devices", "3",
         "--rate", "4", "--surge-every", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert stack.stdout is not None
        deadline = time.monotonic() + 90
        for line in stack.stdout:
            seen.append(line.rstrip())
            match = re.search(r"api devices=(\d+) events=(\d+)", line)
            if match and match.group(1) == "3" and int(match.group(2)) > 0:
                break
            assert time.monotonic() < deadline, "\n".join(seen)
        stack.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest, _ = stack.communicate(timeout=60)
        seen.extend(rest.splitlines())
    finally:
        if stack.poll() is None:
            stack.kill()
            stack.wait()
    text = "\n".join(seen)
    assert stack.returncode == 0, text
    assert re.search(r"live page +http://127\.0\.0\.1:\d+/live/", text)
    assert re.search(r"events API +http://127\.0\.0\.1:\d+/api/v1/events", text)
    assert seen[-1] == "stopped."
    assert (state / "certs" / "ca.pem").exists()
    assert (state / "powerwatch.duckdb").exists()
    assert (state / "gateway" / "spool" / "consumers" / "local-ingest.json").exists()
    for name in ("api", "gateway", "driver-sim"):
        assert "Traceback" not in (state / "logs" / f"{name}.log").read_text(), name
