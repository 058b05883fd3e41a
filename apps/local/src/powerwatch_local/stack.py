"""`make up`: the whole platform on one machine, from simulated Driver to the live page.

    driver-sim --mTLS--> gateway --> spool dir --> ingestion + API (one process) --> page

Generates dev certificates into <state>/certs (if missing), starts driver-sim, the
gateway (spool sink) and `serve` (API + ingestion, powerwatch_local.serve) as child
processes, prints the URLs and a status line every few seconds. Everything binds to
127.0.0.1; state lives in .local/. Ctrl-C (or SIGTERM) stops the children in reverse
order: API, gateway (flushes its batch to the spool), simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from powerwatch_local.devcerts import DevCertPaths, ensure_dev_certs
from powerwatch_local.processes import Child, free_port, run_until_signal, supervise

SURGE_EVERY_S = 30.0  # a newcomer sees the first surge within a minute


@dataclass
class PlatformStack:
    """driver-sim, the gateway and the API with local ingestion, as child processes."""

    state_dir: Path
    certs: DevCertPaths
    driver_port: int
    http_port: int
    devices: int
    python: str = sys.executable
    api_port: int = 8000
    surge_every_s: float = SURGE_EVERY_S
    rate_hz: float = 1.0
    bad_line_rate: float = 0.002  # a few rejected lines, so the counters show validation
    database_path: Path | None = None  # default: powerwatch.duckdb in state_dir

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def spool_dir(self) -> Path:
        return self.state_dir / "gateway" / "spool"

    @property
    def database(self) -> Path:
        return self.database_path or self.state_dir / "powerwatch.duckdb"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def children(self) -> list[Child]:
        c = self.certs
        sim = [self.python, "-m", "powerwatch_gateway.driver_sim"]
        sim += ["--port", str(self.driver_port), "--ca", str(c.ca)]
        sim += ["--cert", str(c.driver_cert), "--key", str(c.driver_key)]
        sim += ["--devices", str(self.devices), "--rate", f"{self.rate_hz:g}"]
        sim += ["--surge-every", f"{self.surge_every_s:g}"]
        sim += ["--bad-line-rate", f"{self.bad_line_rate:g}"]
        gateway_env = {
            "GATEWAY_DRIVER_HOST": "127.0.0.1",
            "GATEWAY_DRIVER_PORT": str(self.driver_port),
            "GATEWAY_DRIVER_CA_FILE": str(c.ca),
            "GATEWAY_DRIVER_CERT_FILE": str(c.gateway_cert),
            "GATEWAY_DRIVER_KEY_FILE": str(c.gateway_key),
            "GATEWAY_SINK": "spool",
            "GATEWAY_DATA_DIR": str(self.state_dir / "gateway"),
            "GATEWAY_HTTP_PORT": str(self.http_port),
        }
        serve = [self.python, "-m", "powerwatch_local.serve", "--host", "127.0.0.1"]
        serve += ["--port", str(self.api_port), "--spool", str(self.spool_dir)]
        serve += ["--database", str(self.database)]
        return [
            Child("driver-sim", sim),
            Child("gateway", [self.python, "-m", "powerwatch_gateway", "run"], gateway_env),
            Child(
                "api", serve, {"POWERWATCH_API_AUTH": "none", "POWERWATCH_KUSTO_CLUSTER_URL": ""}
            ),
        ]


_METRIC = re.compile(r"^(powerwatch_gateway_\w+?)(?:\{[^}]*\})? ([0-9.eE+-]+)$", re.MULTILINE)


def scrape(url: str) -> dict[str, float]:
    """Sum each gateway metric over its labels."""
    # Always our own http://127.0.0.1 URL, never user input.
    with urllib.request.urlopen(f"{url}/metrics", timeout=2) as response:  # noqa: S310  # nosec B310
        text = response.read().decode()
    totals: dict[str, float] = {}
    for name, value in _METRIC.findall(text):
        totals[name] = totals.get(name, 0.0) + float(value)
    return totals


def counters_line(m: dict[str, float]) -> str:
    p = "powerwatch_gateway_"
    return (
        f"{time.strftime('%H:%M:%S')} readings in={m.get(p + 'readings_accepted_total', 0):.0f}"
        f" spooled={m.get(p + 'readings_spooled_total', 0):.0f}"
        f" rejected={m.get(p + 'readings_rejected_total', 0):.0f}"
        f" spool_depth={m.get(p + 'spool_depth_records', 0):.0f}"
        f" connected={m.get(p + 'driver_connected', 0):.0f}"
        f" reconnects={m.get(p + 'driver_reconnects_total', 0):.0f}"
    )


def gateway_status(url: str) -> str:
    """The counters line, or why the gateway cannot give one yet."""
    try:
        return counters_line(scrape(url))
    except OSError as error:
        return f"gateway metrics not available yet: {error}"


def api_counts(url: str) -> str:
    """Devices and recent events as the public API reports them."""
    counts = []
    for path, label in (("/api/v1/devices", "devices"), ("/api/v1/events?limit=1000", "events")):
        # Always our own http://127.0.0.1 URL, never user input.
        with urllib.request.urlopen(url + path, timeout=2) as response:  # noqa: S310  # nosec B310
            counts.append(f"{label}={len(json.load(response)['items'])}")
    return " ".join(counts)


async def run(stack: PlatformStack, every_s: float, stop: asyncio.Event) -> int:
    banner = [
        f"live page        {stack.api_url}/live/",
        f"events API       {stack.api_url}/api/v1/events   (OpenAPI UI: {stack.api_url}/schema/)",
        f"gateway health   {stack.gateway_url}/healthz  metrics: {stack.gateway_url}/metrics",
        f"driver-sim       127.0.0.1:{stack.driver_port} (TLS 1.3, mutual auth)",
        f"state            {stack.state_dir} (certs/, gateway/spool/, powerwatch.duckdb, logs/)",
    ]
    status = functools.partial(_status_line, stack)
    # Stopped in reverse: the API first, then the gateway flushes, then the simulator.
    return await supervise(
        stack.children(), stack.state_dir / "logs", banner, status, every_s, stop
    )


def _status_line(stack: PlatformStack) -> str:
    line = gateway_status(stack.gateway_url)
    try:
        return f"{line} | api {api_counts(stack.api_url)}"
    except (OSError, ValueError, KeyError) as error:
        return f"{line} | api not ready yet: {error}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m powerwatch_local.stack", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--state-dir", type=Path, default=Path(".local"), help="default .local")
    parser.add_argument("--devices", type=int, default=10, help="simulated devices (default 10)")
    parser.add_argument("--rate", type=float, default=1.0, help="readings/s per device (1)")
    parser.add_argument(
        "--surge-every", type=float, default=SURGE_EVERY_S, help="seconds between surges (30)"
    )
    parser.add_argument("--api-port", type=int, default=8000, help="API port if free (8000)")
    parser.add_argument("--http-port", type=int, default=8080, help="gateway port if free (8080)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between status lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.devices < 1 or args.rate <= 0 or args.surge_every < 0 or args.every <= 0:
        parser.error("--devices, --rate and --every must be positive, --surge-every >= 0")
    certs = ensure_dev_certs(args.state_dir / "certs")
    api_port = free_port(args.api_port)
    http_port = free_port(args.http_port)
    if http_port == api_port:
        http_port = free_port(0)
    stack = PlatformStack(
        state_dir=args.state_dir.resolve(),
        certs=DevCertPaths(certs.directory.resolve()),
        driver_port=free_port(7000),
        http_port=http_port,
        devices=args.devices,
        python=sys.executable,
        api_port=api_port,
        surge_every_s=args.surge_every,
        rate_hz=args.rate,
    )
    return run_until_signal(lambda stop: run(stack, args.every, stop))


if __name__ == "__main__":
    raise SystemExit(main())
