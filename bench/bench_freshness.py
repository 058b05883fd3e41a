"""Freshness of the local platform: simulator emits a surge reading -> its event is
visible through the events API.

Runs the real processes of `make up` (driver-sim -> gateway over mutual TLS -> spool ->
ingestion + API, powerwatch_local.stack's argv) on free ports in a temp directory,
with a surge on some device every second. For every surge reading, freshness =
(first time a client sees it) - (the reading's `ts`, stamped by the simulator when it
emits it; same machine clock).

- project:  first seen in GET /api/v1/events (polled every --poll-ms)
- baseline: first seen in the gateway's spool (tailed every --poll-ms, same run) —
  what ingestion + detection + the API add on top of the gateway's durable delivery.

Printed per load level (default: 10 devices and 1,000 devices, 1 Hz each): n, p50, p99,
max of both, and the p99 ratio. Target (issue 5): API p99 < 1 s.

    .venv/bin/python bench/bench_freshness.py [--seconds 60] [--loads 10,1000] [--rate 1]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess  # nosec B404
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from powerwatch_gateway.spool import SpoolReader
from powerwatch_local.devcerts import ensure_dev_certs
from powerwatch_local.processes import free_port
from powerwatch_local.stack import PlatformStack

THRESHOLD_W = 5000.0


def parse_ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Watcher:
    """First-seen wall time of each surge reading id, from one source, in a thread."""

    def __init__(self, poll_s: float) -> None:
        self.poll_s = poll_s
        self.seen: dict[str, tuple[float, float]] = {}  # id -> (ts, first seen)
        self.stop = threading.Event()
        self.errors = 0

    def observe(self, reading_id: str, ts: float) -> None:
        if reading_id not in self.seen:
            self.seen[reading_id] = (ts, time.time())

    def latencies(self, since: float, until: float) -> list[float]:
        return [seen - ts for ts, seen in self.seen.values() if since <= ts < until]


class ApiWatcher(Watcher):
    def __init__(self, api: str, poll_s: float, since_iso: str) -> None:
        super().__init__(poll_s)
        self.url = f"{api}/api/v1/events?limit=1000&from={since_iso}"

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                # Our own http://127.0.0.1 URL.
                with urllib.request.urlopen(self.url, timeout=5) as response:  # nosec B310
                    items = json.load(response)["items"]
                for event in items:
                    self.observe(event["reading_id"], parse_ts(event["ts"]))
            except OSError:
                self.errors += 1
            self.stop.wait(self.poll_s)


class SpoolWatcher(Watcher):
    def __init__(self, spool: Path, poll_s: float) -> None:
        super().__init__(poll_s)
        self.spool = spool

    def run(self) -> None:
        while not (self.spool / "segments").is_dir() and not self.stop.wait(self.poll_s):
            pass
        reader = SpoolReader(self.spool, "bench-freshness")  # never commits: no checkpoint
        while not self.stop.is_set():
            for line in reader.iter_records():
                record = msgspec.json.decode(line)
                if record["voltage"] * record["current"] > THRESHOLD_W:
                    self.observe(record["reading_id"], parse_ts(record["ts"]))
            self.stop.wait(self.poll_s)


def wait_ready(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # nosec B310
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"not ready after {timeout_s}s: {url}")


def measure(devices: int, rate: float, seconds: float, poll_s: float, warmup_s: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="pw-freshness-") as tmp:
        state = Path(tmp)
        certs = ensure_dev_certs(state / "certs")
        stack = PlatformStack(
            state_dir=state,
            certs=certs,
            driver_port=free_port(0),
            http_port=free_port(0),
            devices=devices,
            api_port=free_port(0),
            surge_every_s=1.0,
            rate_hz=rate,
        )
        children = stack.children()
        sim = next(c for c in children if c.name == "driver-sim")
        sim.argv += ["--surge-seconds", "0.5", "--bad-line-rate", "0"]
        (state / "logs").mkdir()
        procs = []
        for child in children:
            log = (state / "logs" / f"{child.name}.log").open("ab")
            # The argv of this repository's own modules (PlatformStack), no shell.
            env = {**os.environ, **child.env}
            proc = subprocess.Popen(child.argv, env=env, stdout=log, stderr=log)  # nosec B603
            procs.append(proc)
        try:
            wait_ready(f"{stack.api_url}/readyz", 90)
            since_iso = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            api = ApiWatcher(stack.api_url, poll_s, since_iso)
            spool = SpoolWatcher(stack.spool_dir, poll_s)
            threads = [threading.Thread(target=w.run, daemon=True) for w in (api, spool)]
            for thread in threads:
                thread.start()
            time.sleep(warmup_s)
            start = time.time()
            time.sleep(seconds)
            end = time.time()
            time.sleep(3.0)  # let the last readings of the window arrive
            for watcher in (api, spool):
                watcher.stop.set()
            for thread in threads:
                thread.join(10)
        finally:
            for proc in reversed(procs):
                proc.send_signal(signal.SIGTERM)
            for proc in reversed(procs):
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        return {
            "api": api.latencies(start, end),
            "spool": spool.latencies(start, end),
            "api_errors": api.errors,
        }


def describe(values: list[float]) -> str:
    if not values:
        return "n=0 (nothing seen)"
    return (
        f"n={len(values):4d}  p50={statistics.median(values) * 1000:7.1f} ms"
        f"  p99={percentile(values, 0.99) * 1000:7.1f} ms  max={max(values) * 1000:7.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window per load")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds ignored at the start")
    parser.add_argument("--loads", default="10,1000", help="device counts, comma separated")
    parser.add_argument("--rate", type=float, default=1.0, help="readings/s per device")
    parser.add_argument("--poll-ms", type=float, default=100.0, help="client polling interval")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load avg {os.getloadavg()}")
    print("surges: one device over the threshold every second; gateway batches 0.2 s")
    print(f"clients poll every {args.poll_ms:g} ms (adds ~{args.poll_ms / 2:g} ms on average)")
    worst = 0.0
    for devices in (int(d) for d in args.loads.split(",")):
        result = measure(devices, args.rate, args.seconds, args.poll_ms / 1000, args.warmup)
        api, spool = result["api"], result["spool"]
        print(
            f"\nload: {devices} devices x {args.rate:g} Hz = {devices * args.rate:,.0f} readings/s,"
            f" {args.seconds:g} s measured"
        )
        print(f"  baseline  spool-visible (gateway durable): {describe(spool)}")
        print(f"  project   API-visible (event queryable)  : {describe(api)}")
        if api and spool:
            ratio = percentile(api, 0.99) / percentile(spool, 0.99)
            errors = result["api_errors"]
            print(f"  ratio p99 API/spool: {ratio:.2f}x  (API errors while polling: {errors})")
            worst = max(worst, percentile(api, 0.99))
        else:
            worst = float("inf")
    verdict = "met" if worst < 1.0 else "NOT met"
    print(f"\ntarget API p99 < 1 s at every load: {verdict} (worst p99 {worst * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
