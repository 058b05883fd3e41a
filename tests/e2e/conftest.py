"""The whole local platform as real processes: driver-sim -> gateway -> spool -> serve.

Each process is started the way `make up` starts it (same modules, same flags), on
dynamic ports (port files) in a temporary directory, so tests can kill -9 and restart
any of them. Nothing here is faked.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from powerwatch_local.devcerts import DevCertPaths, ensure_dev_certs

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
    port_file: Path | None = None
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        if self.port_file is not None:
            self.port_file.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def port(self, timeout_s: float = 60) -> int:
        assert self.port_file is not None
        path = self.port_file
        return int(wait_for(lambda: path.read_text().strip(), timeout_s, f"{self.name} port"))

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

    @property
    def spool(self) -> Path:
        return self.root / "gateway" / "spool"

    @property
    def database(self) -> Path:
        return self.root / "powerwatch.duckdb"

    def build(self) -> None:
        certs: DevCertPaths = ensure_dev_certs(self.root / "certs")
        py = sys.executable
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.procs["driver-sim"] = Proc(
            "driver-sim",
            [
                py, "-m", "powerwatch_gateway.driver_sim", "--port", "0",
                "--port-file", str(self.root / "driver.port"),
                "--ca", str(certs.ca), "--cert", str(certs.driver_cert),
                "--key", str(certs.driver_key), "--devices", str(self.devices),
                "--rate", str(self.rate_hz), "--surge-every", str(self.surge_every_s),
                "--surge-seconds", str(1.0), "--bad-line-rate", "0.01", "--seed", "7",
            ],
            {},
            logs / "driver-sim.log",
            self.root / "driver.port",
        )  # fmt: skip
        self.procs["serve"] = Proc(
            "serve",
            [
                py, "-m", "powerwatch_local.serve", "--port", "0",
                "--port-file", str(self.root / "api.port"), "--spool", str(self.spool),
                "--database", str(self.database),
            ],
            {"POWERWATCH_API_AUTH": "none", "POWERWATCH_KUSTO_CLUSTER_URL": ""},
            logs / "serve.log",
            self.root / "api.port",
        )  # fmt: skip
        self._certs = certs

    def start(self) -> None:
        self.build()
        self.procs["driver-sim"].start()
        driver_port = self.procs["driver-sim"].port()
        self.procs["gateway"] = Proc(
            "gateway",
            [sys.executable, "-m", "powerwatch_gateway", "run"],
            {
                "GATEWAY_DRIVER_HOST": "127.0.0.1",
                "GATEWAY_DRIVER_PORT": str(driver_port),
                "GATEWAY_DRIVER_CA_FILE": str(self._certs.ca),
                "GATEWAY_DRIVER_CERT_FILE": str(self._certs.gateway_cert),
                "GATEWAY_DRIVER_KEY_FILE": str(self._certs.gateway_key),
                "GATEWAY_SINK": "spool",
                "GATEWAY_DATA_DIR": str(self.root / "gateway"),
                "GATEWAY_HTTP_PORT": "0",
                "GATEWAY_HTTP_PORT_FILE": str(self.root / "gateway.port"),
                "GATEWAY_BACKOFF_INITIAL_S": "0.2",
                "GATEWAY_BACKOFF_MAX_S": "1",
            },
            self.root / "logs" / "gateway.log",
            self.root / "gateway.port",
        )
        self.procs["gateway"].start()
        self.procs["serve"].start()

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
        return f"http://127.0.0.1:{self.procs['serve'].port()}"

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
