"""`make up`'s module: certs, driver-sim and gateway as children, counters, clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.slow
def test_local_stack_shows_readings_flowing_and_stops_cleanly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    stack = subprocess.Popen(
        [sys.executable, "-m", "powerwatch_gateway.local_stack",
         "--state-dir", str(tmp_path / "state"), "--every", "0.5",
         "--http-port", "0", "--devices", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert stack.stdout is not None
        deadline = time.monotonic() + 40
        for line in stack.stdout:
            seen.append(line.rstrip())
            match = re.search(r"readings in=(\d+) spooled=(\d+)", line)
            if match and int(match.group(2)) >= 5:
                break
            assert time.monotonic() < deadline, seen
        stack.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest, _ = stack.communicate(timeout=30)
        seen.extend(rest.splitlines())
    finally:
        if stack.poll() is None:
            stack.kill()
            stack.wait()
    assert stack.returncode == 0, seen
    text = "\n".join(seen)
    assert re.search(r"gateway health +http://127\.0\.0\.1:\d+/healthz", text)
    assert re.search(r"gateway metrics +http://127\.0\.0\.1:\d+/metrics", text)
    assert seen[-1] == "stopped."
    state = tmp_path / "state"
    assert (state / "certs" / "ca.pem").exists()
    assert (state / "certs" / "gateway-key.pem").exists()
    segments = list((state / "gateway" / "spool" / "segments").iterdir())
    assert segments
    assert all(s.suffix == ".ndjson" for s in segments)
