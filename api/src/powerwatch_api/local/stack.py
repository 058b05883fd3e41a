"""`make up`: the whole platform on one machine, from simulated Driver to the live page.

    driver-sim --mTLS--> gateway --> spool dir --> ingestion + API (one process) --> page

Reuses the gateway's orchestrator (powerwatch_gateway.local_stack: children, ports,
supervision, signals, metrics) and its dev certificates; adds the `serve` process
(API + ingestion, powerwatch_api.local.serve). Everything binds to 127.0.0.1; state
lives in .local/. Ctrl-C (or SIGTERM) stops the children in reverse order: API,
gateway (flushes its batch to the spool), simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from powerwatch_gateway.devcerts import DevCertPaths, ensure_dev_certs
from powerwatch_gateway.local_stack import (
    Child,
    free_port,
    gateway_status,
    run_until_signal,
    supervise,
)
from powerwatch_gateway.local_stack import Stack as GatewayStack

SURGE_EVERY_S = 30.0  # a newcomer sees the first surge within a minute


@dataclass
class PlatformStack(GatewayStack):
    """The gateway's stack (driver-sim, gateway) plus the API with local ingestion."""

    api_port: int = 8000
    surge_every_s: float = SURGE_EVERY_S
    rate_hz: float = 1.0

    @property
    def spool_dir(self) -> Path:
        return self.state_dir / "gateway" / "spool"

    @property
    def database(self) -> Path:
        return self.state_dir / "powerwatch.duckdb"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def children(self) -> list[Child]:
        children = super().children()  # driver-sim and the gateway, as the gateway runs them
        sim = next(c for c in children if c.name == "driver-sim")
        sim.argv = _with_option(sim.argv, "--surge-every", f"{self.surge_every_s:g}")
        sim.argv = [*sim.argv, "--rate", f"{self.rate_hz:g}"]
        serve = ["-m", "powerwatch_api.local.serve", "--host", "127.0.0.1"]
        serve += ["--port", str(self.api_port), "--spool", str(self.spool_dir)]
        serve += ["--database", str(self.database)]
        api = Child(
            "api",
            [self.python, *serve],
            {"POWERWATCH_API_AUTH": "none", "POWERWATCH_KUSTO_CLUSTER_URL": ""},
        )
        return [*children, api]


def _with_option(argv: list[str], flag: str, value: str) -> list[str]:
    out = list(argv)
    if flag in out:
        out[out.index(flag) + 1] = value
    else:
        out += [flag, value]
    return out


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
        prog="python -m powerwatch_api.local.stack", description=__doc__.split("\n\n")[0]
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
