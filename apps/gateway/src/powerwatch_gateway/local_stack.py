"""`make up`: the local platform as a small orchestrator of child processes.

Generates dev certificates into .local/certs (if missing), starts driver-sim
and the gateway (local spool sink under .local/), prints the URLs and a line
of counters every few seconds, and stops everything on Ctrl-C / SIGTERM.

To add a component (ingestion, API, ...) append a `Child` in `children()`; `make up`
(powerwatch_api.local.stack) does so and reuses `supervise` and `run_until_signal`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from powerwatch_gateway.devcerts import DevCertPaths, ensure_dev_certs


@dataclass
class Child:
    """One process of the stack."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None

    async def start(self, log_dir: Path) -> None:
        log_file = (log_dir / f"{self.name}.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, env={**os.environ, **self.env}, stdout=log_file, stderr=log_file
        )
        log_file.close()  # the child holds its own descriptor

    async def stop(self, grace_s: float = 15.0) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()  # SIGTERM: the gateway flushes its batch first
        try:
            return await asyncio.wait_for(self.process.wait(), grace_s)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()


def free_port(preferred: int, host: str = "127.0.0.1") -> int:
    """`preferred` if it is free, else any free port."""
    for candidate in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port")


@dataclass
class Stack:
    state_dir: Path
    certs: DevCertPaths
    driver_port: int
    http_port: int
    devices: int
    python: str = sys.executable

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def children(self) -> list[Child]:
        c = self.certs
        return [
            Child(
                "driver-sim",
                [
                    self.python,
                    "-m",
                    "powerwatch_gateway.driver_sim",
                    "--port",
                    str(self.driver_port),
                    "--ca",
                    str(c.ca),
                    "--cert",
                    str(c.driver_cert),
                    "--key",
                    str(c.driver_key),
                    "--devices",
                    str(self.devices),
                    "--surge-every",
                    "60",
                    "--bad-line-rate",
                    "0.002",
                ],
            ),
            Child(
                "gateway",
                [self.python, "-m", "powerwatch_gateway", "run"],
                {
                    "GATEWAY_DRIVER_HOST": "127.0.0.1",
                    "GATEWAY_DRIVER_PORT": str(self.driver_port),
                    "GATEWAY_DRIVER_CA_FILE": str(c.ca),
                    "GATEWAY_DRIVER_CERT_FILE": str(c.gateway_cert),
                    "GATEWAY_DRIVER_KEY_FILE": str(c.gateway_key),
                    "GATEWAY_SINK": "spool",
                    "GATEWAY_DATA_DIR": str(self.state_dir / "gateway"),
                    "GATEWAY_HTTP_PORT": str(self.http_port),
                },
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


async def supervise(
    children: Sequence[Child],
    log_dir: Path,
    banner: Sequence[str],
    status: Callable[[], str],
    every_s: float,
    stop: asyncio.Event,
) -> int:
    """Start the children, print `banner`, then `status()` every `every_s` until `stop`.

    A child that exits on its own ends the run with 1. The children stop in reverse
    order, each before what it reads from: the gateway flushes, then the simulator stops.
    """
    await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)
    for child in children:
        await child.start(log_dir)
    for line in banner:
        print(line)
    print("Ctrl-C stops everything.", flush=True)
    exit_code = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        dead = [c for c in children if c.process is not None and c.process.returncode is not None]
        if dead:
            for c in dead:
                code = c.process.returncode if c.process else "?"
                print(f"{c.name} exited with {code}; see {log_dir}/{c.name}.log", flush=True)
            exit_code = 1
            break
        if not stop.is_set():
            print(await asyncio.to_thread(status), flush=True)
    for child in reversed(children):
        await child.stop()
    print("stopped.", flush=True)
    return exit_code


def run_until_signal(body: Callable[[asyncio.Event], Awaitable[int]]) -> int:
    """`body(stop)` in a fresh event loop, where Ctrl-C and SIGTERM set `stop`."""

    async def _main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await body(stop)

    return asyncio.run(_main())


async def run(stack: Stack, every_s: float, stop: asyncio.Event) -> int:
    log_dir = stack.state_dir / "logs"
    banner = [
        f"gateway health   {stack.gateway_url}/healthz  (ready: {stack.gateway_url}/readyz)",
        f"gateway metrics  {stack.gateway_url}/metrics",
        f"driver-sim       127.0.0.1:{stack.driver_port} (TLS 1.3, mutual auth)",
        f"dev certificates {stack.certs.directory}",
        f"spool (sink)     {stack.state_dir / 'gateway' / 'spool'}   logs: {log_dir}",
    ]
    status = functools.partial(gateway_status, stack.gateway_url)
    return await supervise(stack.children(), log_dir, banner, status, every_s, stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m powerwatch_gateway.local_stack", description=__doc__
    )
    parser.add_argument(
        "--state-dir", type=Path, default=Path(".local"), help="run-time state (default .local)"
    )
    parser.add_argument("--devices", type=int, default=10, help="simulated devices (default 10)")
    parser.add_argument(
        "--http-port", type=int, default=8080, help="gateway HTTP port if free (default 8080)"
    )
    parser.add_argument("--every", type=float, default=5.0, help="seconds between counter lines")
    args = parser.parse_args(argv)
    certs = ensure_dev_certs(args.state_dir / "certs")
    stack = Stack(
        state_dir=args.state_dir.resolve(),
        certs=DevCertPaths(certs.directory.resolve()),
        driver_port=free_port(7000),
        http_port=free_port(args.http_port),
        devices=args.devices,
    )
    return run_until_signal(lambda stop: run(stack, args.every, stop))


if __name__ == "__main__":
    raise SystemExit(main())
