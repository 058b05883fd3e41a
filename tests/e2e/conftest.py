"""The whole local platform as real processes: driver-sim -> gateway -> spool -> serve.

Each process is started with `make up`'s command (PlatformStack.children()), on free
ports in a temporary directory, so tests can kill -9 and restart any of them. Nothing
here is faked.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from powerwatch_local.devcerts import ensure_dev_certs
from powerwatch_local.processes import free_port
from powerwatch_local.stack import PlatformStack

CONSUMER = "local-ingest"


def wait_for(check: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.1) -> Any:
    """Poll until `check()` is truthy; fail naming `what` when it never is."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, ValueError, KeyError) as error:  # not up yet
            last_error = error
        else:
            if value:
                return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last_error})")


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def kill9(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout_s: float = 30) -> int:
        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else 0
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Platform:
    root: Path
    devices: int = 4
    rate_hz: float = 5.0
    surge_every_s: float = 3.0
    procs: dict[str, Proc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stack = PlatformStack(
            state_dir=self.root, certs=ensure_dev_certs(self.root / "certs"),
            driver_port=free_port(), http_port=free_port(), api_port=free_port(),
            devices=self.devices, bad_line_rate=0.01,
        )  # fmt: skip

    @property
    def spool(self) -> Path:
        return self.stack.spool_dir

    @property
    def database(self) -> Path:
        return self.stack.database

    def start(self) -> None:
        """make up's three commands (PlatformStack.children()), with short surges, a fixed
        seed and quick gateway reconnects, so that a test sees events and restarts soon."""
        self.stack.rate_hz, self.stack.surge_every_s = self.rate_hz, self.surge_every_s
        sim, gateway, serve = self.stack.children()
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        quick = {"GATEWAY_BACKOFF_INITIAL_S": "0.2", "GATEWAY_BACKOFF_MAX_S": "1"}
        self.procs = {
            "driver-sim": Proc(
                "driver-sim", [*sim.argv, "--surge-seconds", "1", "--seed", "7"], sim.env,
                logs / "driver-sim.log",
            ),
            "gateway": Proc(
                "gateway", gateway.argv, {**gateway.env, **quick}, logs / "gateway.log"
            ),
            "serve": Proc("serve", serve.argv, serve.env, logs / "serve.log"),
        }  # fmt: skip
        for proc in self.procs.values():
            proc.start()

    @staticmethod
    def wait(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
        return wait_for(check, timeout_s, what)

    def api_ready(self) -> bool:
        try:
            self.get("/readyz")
        except (urllib.error.URLError, OSError):
            return False
        return True

    @property
    def api(self) -> str:
        return self.stack.api_url

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.api + path, timeout=5) as response:
            return json.load(response)

    def stop_all(self) -> None:
        for name in ("serve", "gateway", "driver-sim"):
            proc = self.procs.get(name)
            if proc is not None and proc.alive:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.stop()

    def logs(self) -> str:
        out = []
        for proc in self.procs.values():
            text = proc.log.read_text(errors="replace") if proc.log.exists() else ""
            out.append(f"--- {proc.name} (last lines)\n" + "\n".join(text.splitlines()[-15:]))
        return "\n".join(out)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    stack = Platform(tmp_path)
    try:
        yield stack
    finally:
        stack.stop_all()
