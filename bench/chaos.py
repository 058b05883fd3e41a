"""The chaos run: `make up`'s real processes under load and many faults, then the account.

    .venv/bin/python bench/chaos.py [--minutes 10] [--seed 17] [--report docs/reliability.md]

driver-sim, the gateway and `serve` (API + ingestion) run with the exact commands of
`make up` (`PlatformStack.children()`), on free 127.0.0.1 ports, in a temp directory.
Between driver-sim and the gateway sits `ChaosLink` (bench/chaos_driver.py). A seeded
schedule injects, concurrently: link drops at random byte offsets, silences longer than
the watchdog, bursts of adversarial lines; kill -9 of the gateway (some with a torn
segment tail added before the restart) and of `serve` (two followed by a replay of the
whole spool into ingestion), a full spool disk (tmpfs) and a read-only database
(remounted read-only), each undone and the process restarted by running its command
again, as docs/local-mode.md tells an operator. At the end: the account (see
docs/reliability.md). Exit status 0 only when nothing was lost, duplicated or crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess  # nosec B404 - our own commands (make up's), no shell
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
from chaos_driver import STALLED, TAG, ChaosLink, adversarial_lines
from powerwatch_gateway.spool import (
    OPEN_SUFFIX,
    Position,
    list_segments,
    read_checkpoint,
    write_checkpoint,
)
from powerwatch_gateway.tls import client_context, server_context
from powerwatch_local.devcerts import ensure_dev_certs
from powerwatch_local.ingest import DEFAULT_CONSUMER
from powerwatch_local.processes import free_port
from powerwatch_local.stack import PlatformStack, scrape

REPO = Path(__file__).resolve().parents[1]
THRESHOLDS = REPO / "kusto" / "functions" / "DeviceThresholds.kql"
AUDIT_CONSUMER = "chaos-audit"  # parked at the start: no segment is pruned, all can be counted


# -- processes -----------------------------------------------------------------------------
@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    incarnation: int = 0
    expected_exit: bool = False
    crashes: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.incarnation += 1
        self.expected_exit = False
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(  # nosec B603 - make up's own argv
                self.argv, env={**os.environ, **self.env}, stdout=log, stderr=log
            )

    def kill9(self) -> None:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        self.expected_exit = True
        self.popen.kill()
        self.popen.wait()

    def stop(self) -> int | None:
        if self.popen is None or self.popen.poll() is not None:
            return None if self.popen is None else self.popen.returncode
        self.expected_exit = True
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()

    def check(self) -> bool:
        """True if it died on its own (a crash): recorded, to be restarted."""
        if self.popen is None or self.expected_exit or self.popen.poll() is None:
            return False
        self.crashes.append(f"{self.name} exited with {self.popen.returncode}")
        self.expected_exit = True
        return True


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        # Always our own http://127.0.0.1 URL.
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


# -- the API under load --------------------------------------------------------------------
class ApiLoad(threading.Thread):
    """GETs the public API at a steady pace; records status (or -1 for no answer)."""

    PATHS = ("/api/v1/devices", "/api/v1/events?limit=100", "/api/v1/incidents", "/healthz")

    def __init__(self, base: str, every_s: float) -> None:
        super().__init__(daemon=True)
        self.base, self.every_s = base, every_s
        self.samples: list[tuple[float, float, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.halt.wait(self.every_s):
            start = time.monotonic()
            try:
                url = self.base + self.PATHS[n % len(self.PATHS)]
                with urllib.request.urlopen(url, timeout=10) as r:  # nosec B310
                    r.read()
                    status = r.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (OSError, ValueError):
                status = -1
            self.samples.append((start, time.monotonic(), status))
            n += 1


# -- the run ---------------------------------------------------------------------------------
@dataclass
class Options:
    minutes: float
    seed: int
    devices: int
    surge_every: float
    drops: int
    silences: int
    watchdog_s: float
    adversarial: int
    gateway_kills: int
    serve_kills: int
    replays: int
    disk_fulls: int
    disk_full_s: float
    read_only_s: float
    torn_tails: int
    api_every_s: float
    report: Path | None
    json_out: Path | None
    keep: bool


@dataclass
class Run:
    opts: Options
    state: Path
    rng: random.Random
    gateway: Proc
    serve: Proc
    sim: Proc
    link: ChaosLink
    api: str
    gateway_url: str
    spool: Path
    database: Path
    db_mount: Path | None
    spool_mount: Path | None
    recoveries: dict[str, list[float]] = field(default_factory=dict)
    windows: list[tuple[float, float]] = field(default_factory=list)  # API restart windows
    excused_kills: list[tuple[int, float]] = field(default_factory=list)  # incarnation, at
    notes: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    torn_bytes: int = 0
    read_only_refusals: list[str] = field(default_factory=list)
    api_load: ApiLoad | None = None

    def recovered(self, kind: str, seconds: float) -> None:
        self.recoveries.setdefault(kind, []).append(seconds)
        self.faults[kind] += 1


async def wait_for(predicate: Any, limit_s: float, what: str, every: float = 0.1) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        if await asyncio.to_thread(predicate):
            return time.monotonic() - start
        await asyncio.sleep(every)
    raise TimeoutError(f"not within {limit_s:.0f}s: {what}")


def schedule(rng: random.Random, count: int, start: float, end: float) -> list[float]:
    return sorted(rng.uniform(start, end) for _ in range(count))


# -- fault lanes -----------------------------------------------------------------------------
async def link_lane(run: Run, t0: float, span: tuple[float, float]) -> None:
    o = run.opts
    events = [("drop", t) for t in schedule(run.rng, o.drops, *span)]
    events += [("silence", t) for t in schedule(run.rng, o.silences, *span)]
    bursts = max(1, o.adversarial // 500)
    events += [("burst", t) for t in schedule(run.rng, bursts, *span)]
    events.sort(key=lambda e: e[1])
    per_burst = math.ceil(o.adversarial / bursts)
    link = run.link
    for kind, offset in events:
        await asyncio.sleep(max(0.0, t0 + offset - time.monotonic()))
        if kind == "burst":
            link.burst(min(per_burst, link.adversarial_left))
        elif kind == "drop":
            done = link.fates.drops_mid_line + link.fates.drops_at_boundary
            link.drop()
            with contextlib.suppress(TimeoutError):
                await wait_for(
                    lambda done=done: link.fates.drops_mid_line + link.fates.drops_at_boundary
                    > done, 120, "the drop", 0.01,
                )  # fmt: skip
                cut_at = time.monotonic()
                await wait_for(lambda: reconnected(link), 60, "a reconnect after a drop", 0.01)
                run.recovered("driver drop", time.monotonic() - cut_at)
        elif time.monotonic() > link.silent_until:
            seconds = o.watchdog_s + 2.0
            link.silence(seconds)
            await asyncio.sleep(seconds)
            end = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await wait_for(
                    lambda end=end: link.last_sent_at > end, 60, "a reading after silence"
                )
                run.recovered("silence > watchdog", link.last_sent_at - end)


def reconnected(link: ChaosLink) -> bool:
    conn = link.conn
    return conn is not None and conn is not link.last_cut and not conn.closed.is_set()


async def restart_gateway(run: Run, reason: str, started: float) -> None:
    run.link.new_connection.clear()
    run.gateway.start()
    await wait_for(
        lambda: run.link.conn is not None and run.link.conn.incarnation == run.gateway.incarnation,
        90,
        f"the gateway reconnecting after {reason}",
    )
    run.recovered(reason, time.monotonic() - started)


async def gateway_lane(run: Run, t0: float, span: tuple[float, float]) -> None:
    o = run.opts
    events = [("kill", t) for t in schedule(run.rng, o.gateway_kills, *span)]
    events += [("disk full", t) for t in schedule(run.rng, o.disk_fulls, *span)]
    events.sort(key=lambda e: e[1])
    torn_left = o.torn_tails
    for kind, offset in events:
        await asyncio.sleep(max(0.0, t0 + offset - time.monotonic()))
        if kind == "disk full":
            await disk_full(run)
            continue
        started = time.monotonic()
        run.excused_kills.append((run.gateway.incarnation, started))
        await asyncio.to_thread(run.gateway.kill9)
        label = "kill -9 gateway"
        if torn_left and add_torn_tail(run):
            torn_left -= 1
            label = "kill -9 gateway + torn tail"
        await restart_gateway(run, label, started)


def add_torn_tail(run: Run) -> bool:
    """What a power cut mid-write leaves: the start of a record with no newline."""
    opened = sorted((run.spool / "segments").glob("*.open"))
    if not opened:
        return False
    tail = b'{"received_at":"2026-11-25T18:00:00.1Z","reading_id":"torn'
    with opened[-1].open("ab") as handle:
        handle.write(tail)
    run.torn_bytes += len(tail)
    return True


async def disk_full(run: Run) -> None:
    if run.spool_mount is None:
        return
    filler = run.spool / "chaos-filler"
    spooled = scrape(run.gateway_url).get("powerwatch_gateway_readings_spooled_total", 0.0)

    def fill() -> None:
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            block = b"\0" * (1 << 20)
            while True:
                handle.write(block)
                handle.flush()

    await asyncio.to_thread(fill)
    await asyncio.sleep(run.opts.disk_full_s)
    filler.unlink()
    freed = time.monotonic()

    def spooling_again() -> bool:
        with contextlib.suppress(OSError):
            now = scrape(run.gateway_url).get("powerwatch_gateway_readings_spooled_total", 0)
            return now > spooled
        return False

    with contextlib.suppress(TimeoutError):
        await wait_for(spooling_again, 60, "spooling after the disk was freed")
        run.recovered("spool disk full", time.monotonic() - freed)


async def restart_serve(run: Run, reason: str, started: float) -> None:
    run.serve.start()
    await wait_for(lambda: http_ok(run.api + "/healthz"), 120, f"the API after {reason}", 0.05)
    now = time.monotonic()
    run.windows.append((started, now))
    run.recovered(reason, now - started)


async def serve_lane(run: Run, t0: float, span: tuple[float, float]) -> None:
    o = run.opts
    times = schedule(run.rng, o.serve_kills, *span)
    kinds = ["kill"] * o.serve_kills
    for i in run.rng.sample(range(o.serve_kills), min(o.replays, o.serve_kills)):
        kinds[i] = "replay"
    if run.db_mount is not None and o.read_only_s > 0:
        free = [i for i, k in enumerate(kinds) if k == "kill"]
        if free:
            kinds[run.rng.choice(free)] = "read-only"
    for kind, offset in zip(kinds, times, strict=True):
        await asyncio.sleep(max(0.0, t0 + offset - time.monotonic()))
        started = time.monotonic()
        await asyncio.to_thread(run.serve.kill9)
        if kind == "replay":
            checkpoint = run.spool / "consumers" / f"{DEFAULT_CONSUMER}.json"
            write_checkpoint(checkpoint, Position(0, 0))  # every segment again
            await restart_serve(run, "kill -9 serve + replay of the spool", started)
        elif kind == "read-only":
            await read_only_database(run, started)
        else:
            await restart_serve(run, "kill -9 serve", started)


async def read_only_database(run: Run, started: float) -> None:
    if run.db_mount is None:
        raise RuntimeError("no database mount to make read-only")
    remount(run.db_mount, "ro")
    try:
        run.serve.start()  # the operator's restart, while the file cannot be written
        run.serve.expected_exit = True  # refusing to start here is the right answer
        deadline = time.monotonic() + run.opts.read_only_s
        popen = run.serve.popen
        if popen is None:
            raise RuntimeError("serve did not start")
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(popen.wait, run.opts.read_only_s)
        code = popen.poll()
        if code is None:
            run.read_only_refusals.append("serve kept running on a read-only database")
            await asyncio.to_thread(run.serve.kill9)
        else:
            run.read_only_refusals.append(f"serve refused to start (exit {code})")
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    finally:
        remount(run.db_mount, "rw")
    await restart_serve(run, "read-only database", started)


def remount(mount: Path, mode: str) -> None:
    subprocess.run(  # nosec B603 B607 - fixed argv, our own tmpfs
        ["mount", "-o", f"remount,{mode}", str(mount)], check=True
    )


async def watch_crashes(run: Run, halt: asyncio.Event) -> None:
    """A process that dies on its own is a crash: counted, then restarted like a kill."""
    while not halt.is_set():
        await asyncio.sleep(0.5)
        for proc in (run.gateway, run.serve, run.sim):
            if proc.check():
                run.notes.append(f"crash: {proc.crashes[-1]}")
                proc.start()


# -- the account ---------------------------------------------------------------------------
def spool_ids(spool: Path) -> tuple[set[str], int]:
    """Distinct reading ids in every segment, and the number of lines."""
    ids: set[str] = set()
    lines = 0
    for segment in sorted((spool / "segments").iterdir()):
        for line in segment.read_bytes().splitlines():
            ids.add(msgspec.json.decode(line)["reading_id"])
            lines += 1
    return ids, lines


def thresholds() -> dict[str, float]:
    """DeviceThresholds' property bag (key '*' = the default), read from the KQL file as JSON."""
    bag = re.search(r"dynamic\((\{.*?\})\)", THRESHOLDS.read_text(encoding="utf-8"), re.S)
    if bag is None:
        raise SystemExit(f"chaos: no dynamic({{...}}) threshold bag in {THRESHOLDS}")
    return {device: float(watts) for device, watts in msgspec.json.decode(bag.group(1)).items()}


def stored(database: Path) -> dict[str, Any]:
    """The store's figures by plain SQL, and events recomputed in Python from raw rows."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        raw = con.execute(
            'SELECT ReadingId, DeviceId, "Timestamp", Voltage, "Current" FROM main.RawReadings'
        ).fetchall()
        events = [r[0] for r in con.execute("SELECT ReadingId FROM main.PowerEvents").fetchall()]
    finally:
        con.close()
    limits = thresholds()
    default = limits.pop("*")
    recomputed = {
        rid
        for rid, device, ts, v, c in raw
        if rid and device and ts is not None and v is not None and c is not None
        and math.isfinite(v) and math.isfinite(c) and v * c > limits.get(device, default)
    }  # fmt: skip
    ids = Counter(r[0] for r in raw)
    return {
        "ids": set(ids),
        "stored_twice": sum(1 for n in ids.values() if n > 1),
        "events": Counter(events),
        "recomputed": recomputed,
    }


def dead_letters(gateway_dir: Path) -> list[dict[str, Any]]:
    records = []
    for name in ("dead-letter.ndjson.1", "dead-letter.ndjson"):
        path = gateway_dir / name
        if path.exists():
            records += [msgspec.json.decode(x) for x in path.read_bytes().splitlines()]
    return records


def quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    return f"n={len(values)} p50={statistics.median(values):.2f}s max={max(values):.2f}s"


def account(run: Run) -> dict[str, Any]:
    fates = run.link.fates
    killed = {inc for inc, _ in run.excused_kills}
    durable, spool_lines = spool_ids(run.spool)
    store = stored(run.database)
    emitted = fates.reading
    by_fate = Counter(fate for fate, _, _ in emitted.values())

    # Readings: durable ones all stored once; a reading missing from the spool is "not
    # received" only if Driver never delivered it whole to a gateway that stayed alive.
    sent_to_survivor = {
        rid for rid, (fate, inc, _) in emitted.items() if fate == "sent" and inc not in killed
    }
    not_received: Counter[str] = Counter()
    for rid, (fate, _inc, _) in emitted.items():
        if rid not in durable:
            not_received["gateway killed before fsync" if fate == "sent" else fate] += 1
    lost_live = sorted(sent_to_survivor - durable)
    # How long before its gateway's kill the oldest "not received" reading was sent: a
    # batch is durable within GATEWAY_BATCH_INTERVAL_S (+ a held batch on a full disk),
    # so a large figure here would be a loss the kill only hides.
    killed_at = dict(run.excused_kills)
    oldest = max(
        (killed_at[inc] - at for rid, (fate, inc, at) in emitted.items()
         if fate == "sent" and rid not in durable and inc in killed_at),
        default=0.0,
    )  # fmt: skip
    missing = sorted(durable - store["ids"])
    unknown = sorted(store["ids"] - durable)
    never_emitted = sorted(durable - set(emitted))

    # Events: stored vs recomputed from the stored raw rows.
    events = store["events"]
    events_twice = sum(1 for n in events.values() if n > 1)
    events_diff = set(events) ^ store["recomputed"]

    # Dead letters: every adversarial line with its reason, every mid-line cut.
    expected = {n: run.link.adversarial[n][1].value for n in fates.adversarial_sent}
    found: Counter[int] = Counter()
    wrong_reason = 0
    cuts_found = 0
    cut_found_set: set[str] = set()
    unexplained = 0
    for record in dead_letters(run.state / "gateway"):
        if record["reason"] == "incomplete_line":
            cut_found_set.add(record["raw"])
        match = TAG.match(record["raw"]) or TAG.search(record["raw"][:64])
        if match and int(match.group(1)) in expected:
            n = int(match.group(1))
            found[n] += 1
            wrong_reason += record["reason"] != expected[n]
        elif record["reason"] == "incomplete_line" and record["raw"] in fates.cut_prefixes:
            cuts_found += 1
        else:
            unexplained += 1
    adversarial_missing = [n for n, (inc, _) in fates.adversarial_sent.items() if n not in found]
    adversarial_lost = [
        n for n in adversarial_missing if fates.adversarial_sent[n][0] not in killed | {STALLED}
    ]
    cuts_lost = [
        p for p, (_, inc, _) in fates.cut_prefixes.items() if inc not in killed
    ]  # candidates; a cut found is removed below
    cuts_lost = [p for p in cuts_lost if p not in cut_found_set]

    adversarial_oldest = max(
        (killed_at[fates.adversarial_sent[n][0]] - fates.adversarial_sent[n][1]
         for n in adversarial_missing if fates.adversarial_sent[n][0] in killed_at),
        default=0.0,
    )  # fmt: skip

    # The API.
    samples = run.api_load.samples if run.api_load else []
    # A request in flight when serve is killed fails too: overlap, not start, counts.
    in_window = [
        any(start <= b and a <= end for a, b in run.windows) for start, end, _ in samples
    ]  # fmt: skip
    errors_5xx = [st for (_, _, st), w in zip(samples, in_window, strict=True) if st >= 500]
    outside_5xx = sum(
        1 for (_, _, st), w in zip(samples, in_window, strict=True) if st >= 500 and not w
    )
    outside_down = sum(
        1 for (_, _, st), w in zip(samples, in_window, strict=True) if st == -1 and not w
    )
    longest, down_since = 0.0, None
    for start, end, status in samples:
        if status == -1 or status >= 500:
            down_since = start if down_since is None else down_since
        elif down_since is not None:
            longest = max(longest, end - down_since)
            down_since = None

    crashes = run.gateway.crashes + run.serve.crashes + run.sim.crashes
    tracebacks = sum(p.read_text(errors="replace").count("Traceback") for p in
                     (run.state / "logs").glob("*.log"))  # fmt: skip
    result = {
        "emitted": len(emitted),
        "fates": dict(by_fate),
        "duplicate_emissions": fates.duplicate_emissions,
        "durable_distinct": len(durable),
        "spool_lines": spool_lines,
        "stored_distinct": len(store["ids"]),
        "stored_twice": store["stored_twice"],
        "missing_from_store": len(missing),
        "stored_not_durable": len(unknown),
        "durable_never_emitted": len(never_emitted),
        "lost_by_live_gateway": len(lost_live),
        "not_received": dict(not_received),
        "not_received_total": sum(not_received.values()),
        "not_received_oldest_before_kill_s": round(oldest, 2),
        "events_stored": len(events),
        "events_recomputed": len(store["recomputed"]),
        "events_stored_twice": events_twice,
        "events_mismatch": len(events_diff),
        "adversarial_generated": len(run.link.adversarial),
        "adversarial_sent": len(fates.adversarial_sent),
        "adversarial_in_dead_letter": len(found),
        "adversarial_dead_lettered_twice": sum(1 for n in found.values() if n > 1),
        "adversarial_wrong_reason": wrong_reason,
        "adversarial_not_received": len(adversarial_missing) - len(adversarial_lost),
        "adversarial_lost": len(adversarial_lost),
        "adversarial_not_received_oldest_before_kill_s": round(adversarial_oldest, 2),
        "adversarial_by_reason": dict(Counter(expected.values())),
        "drops_mid_line": fates.drops_mid_line,
        "drops_at_boundary": fates.drops_at_boundary,
        "cuts_in_dead_letter": cuts_found,
        "cuts_lost": len(cuts_lost),
        "cuts_not_received": fates.drops_mid_line - cuts_found - len(cuts_lost),
        "dead_letters_unexplained": unexplained,
        "silences": fates.silences,
        "stalled_writes": fates.stalled_writes,
        "gateway_connections": fates.connections,
        "crashes": len(crashes),
        "crash_list": crashes,
        "tracebacks_in_logs": tracebacks,
        "api_requests": len(samples),
        "api_5xx": len(errors_5xx),
        "api_5xx_outside_restart_windows": outside_5xx,
        "api_no_answer_outside_restart_windows": outside_down,
        "api_longest_unavailable_s": round(longest, 2),
        "faults": dict(run.faults),
        "torn_tail_bytes_added": run.torn_bytes,
        "read_only": run.read_only_refusals,
        "recovery": {k: quantiles(v) for k, v in sorted(run.recoveries.items())},
        "notes": run.notes,
    }
    result["ok"] = not (
        result["stored_twice"] or missing or unknown or never_emitted or lost_live
        or events_twice or events_diff or wrong_reason or adversarial_lost or cuts_lost
        or unexplained or crashes or tracebacks or outside_5xx or fates.duplicate_emissions
        or result["adversarial_dead_lettered_twice"]
    )  # fmt: skip
    return result


# -- setup and main ---------------------------------------------------------------------------
def mount_tmpfs(path: Path, size_mib: int) -> Path | None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return None
    done = subprocess.run(  # nosec B603 B607 - fixed argv
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return path if done.returncode == 0 else None


def unmount(path: Path | None) -> None:
    if path is not None:
        subprocess.run(["umount", "-l", str(path)], check=False)  # nosec B603 B607


async def chaos(opts: Options, state: Path) -> dict[str, Any]:
    rng = random.Random(opts.seed)  # nosec B311 - a reproducible schedule, not a secret
    certs = ensure_dev_certs(state / "certs")
    seconds = opts.minutes * 60
    # Room for the whole run's spool (about 230 bytes a reading) and then some.
    spool_mib = 16 + int(opts.devices * seconds * 230 * 2 / (1 << 20))
    spool_mount = mount_tmpfs(state / "gateway" / "spool", spool_mib)
    db_mount = mount_tmpfs(state / "db", 1024)
    stack = PlatformStack(
        state_dir=state, certs=certs, driver_port=free_port(), http_port=free_port(),
        devices=opts.devices, python=sys.executable, api_port=free_port(),
        surge_every_s=opts.surge_every, bad_line_rate=0.0,  # bad lines come from the link
        database_path=state / "db" / "powerwatch.duckdb",  # on its own tmpfs (read-only fault)
    )  # fmt: skip
    database = stack.database
    sim_c, gw_c, serve_c = stack.children()
    logs = state / "logs"
    logs.mkdir()
    sim = Proc("driver-sim", [*sim_c.argv, "--seed", str(opts.seed)], sim_c.env, logs / "sim.log")
    gateway = Proc("gateway", gw_c.argv, dict(gw_c.env), logs / "gateway.log")
    serve = Proc("serve", serve_c.argv, serve_c.env, logs / "serve.log")
    (stack.spool_dir / "consumers").mkdir(parents=True)
    write_checkpoint(stack.spool_dir / "consumers" / f"{AUDIT_CONSUMER}.json", Position(0, 0))

    adversarial = adversarial_lines(opts.adversarial, rng)
    link = ChaosLink(
        stack.driver_port,
        client_context(certs.ca, certs.gateway_cert, certs.gateway_key),
        server_context(certs.ca, certs.driver_cert, certs.driver_key),
        adversarial,
        lambda: gateway.incarnation,
        rng,
    )
    sim.start()
    await wait_for(lambda: _port_open(stack.driver_port), 30, "driver-sim listening")
    link_port = await link.start()
    gateway.env["GATEWAY_DRIVER_PORT"] = str(link_port)
    gateway.env["GATEWAY_SILENT_AFTER_S"] = f"{opts.watchdog_s:g}"
    gateway.start()
    serve.start()
    await wait_for(lambda: http_ok(stack.api_url + "/healthz"), 120, "the API up", 0.2)
    await wait_for(lambda: link.conn is not None, 60, "the gateway connected")

    load = ApiLoad(stack.api_url, opts.api_every_s)
    run = Run(
        opts, state, rng, gateway, serve, sim, link, stack.api_url, stack.gateway_url,
        stack.spool_dir, database, db_mount, spool_mount,
    )  # fmt: skip
    run.api_load = load
    if spool_mount is None:
        run.notes.append("spool disk full: not run (no tmpfs: needs root and mount)")
    if db_mount is None:
        run.notes.append("read-only database: not run (no tmpfs: needs root and mount)")
    load.start()
    halt = asyncio.Event()
    watcher = asyncio.create_task(watch_crashes(run, halt))
    t0 = time.monotonic()
    span = (5.0, max(6.0, seconds - 20.0))  # quiet start and end
    print(f"chaos: {opts.minutes:g} min, seed {opts.seed}, state {state}", flush=True)
    await asyncio.gather(
        link_lane(run, t0, span), gateway_lane(run, t0, span), serve_lane(run, t0, span)
    )
    await asyncio.sleep(max(0.0, t0 + seconds - time.monotonic()))
    if link.adversarial_left:  # the schedule's last burst rounded down
        link.burst(link.adversarial_left)
        await asyncio.sleep(2)

    # Drain: stop taking readings, let the gateway flush and seal, ingestion catch up.
    halt.set()
    await watcher
    await link.stop_upstream()
    await asyncio.sleep(2)
    await asyncio.to_thread(gateway.stop)
    await wait_for(lambda: ingestion_caught_up(stack.spool_dir), 300, "ingestion caught up", 0.5)
    load.halt.set()
    load.join()
    await asyncio.to_thread(serve.stop)
    await asyncio.to_thread(sim.stop)
    await link.close()
    return account(run)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def ingestion_caught_up(spool: Path) -> bool:
    position = read_checkpoint(spool / "consumers" / f"{DEFAULT_CONSUMER}.json")
    segments = list_segments(spool / "segments")
    if position is None or not segments or any(p.suffix == OPEN_SUFFIX for _, p in segments):
        return False
    number, last = segments[-1]
    return (position.segment, position.offset) >= (number, last.stat().st_size)


def render(result: dict[str, Any], opts: Options, argv: Sequence[str], took_s: float) -> str:
    lines = [
        f"command: python bench/chaos.py {' '.join(argv)}".rstrip(),
        f"seed: {opts.seed}   date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC   took: {took_s:.0f} s",
        f"machine: {platform.node() or '?'} {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        f"result: {'NOTHING LOST' if result['ok'] else 'FAILED'}",
        "",
    ]
    for key, value in result.items():
        if key not in ("ok",):
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/chaos.py", description=__doc__.split("\n\n")[0])
    a = p.add_argument
    a("--minutes", type=float, default=10.0, help="length of the faulty stretch (10)")
    a("--seed", type=int, default=17, help="seed of the schedule and the bad lines (17)")
    a("--devices", type=int, default=100, help="simulated devices at 1 Hz (100)")
    a("--surge-every", type=float, default=20.0, help="seconds between surges (20)")
    a("--drops", type=int, default=120, help="link drops at a random byte offset (120)")
    a("--silences", type=int, default=4, help="silences longer than the watchdog (4)")
    a(
        "--watchdog",
        type=float,
        default=5.0,
        dest="watchdog_s",
        help="GATEWAY_SILENT_AFTER_S for the run (5)",
    )
    a("--adversarial", type=int, default=100_000, help="adversarial lines (100000)")
    a("--gateway-kills", type=int, default=12, help="kill -9 of the gateway (12)")
    a("--serve-kills", type=int, default=12, help="kill -9 of serve, incl. replays (12)")
    a("--replays", type=int, default=2, help="serve kills followed by a full replay (2)")
    a("--disk-fulls", type=int, default=3, help="spool disk full episodes (3)")
    a(
        "--disk-full-seconds",
        type=float,
        default=5.0,
        dest="disk_full_s",
        help="how long the disk stays full (5)",
    )
    a(
        "--read-only-seconds",
        type=float,
        default=10.0,
        dest="read_only_s",
        help="database read-only (10; 0 = off)",
    )
    a("--torn-tails", type=int, default=4, help="gateway kills followed by a torn tail (4)")
    a(
        "--api-every",
        type=float,
        default=0.25,
        dest="api_every_s",
        help="seconds between API requests (0.25)",
    )
    a("--report", type=Path, help="write the account into this Markdown file")
    a("--json", type=Path, dest="json_out", help="write the account as JSON here")
    a("--keep", action="store_true", help="keep the temp directory (logs, spool, database)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    ns = build_parser().parse_args(args_list)
    opts = Options(**vars(ns))  # the parser's dests are Options' fields
    state = Path(tempfile.mkdtemp(prefix="powerwatch-chaos-"))
    started = time.monotonic()
    try:
        result = asyncio.run(chaos(opts, state))
    finally:
        unmount(state / "gateway" / "spool")
        unmount(state / "db")
        if not opts.keep:
            shutil.rmtree(state, ignore_errors=True)
    text = render(result, opts, args_list, time.monotonic() - started)
    print(text)
    if opts.json_out:
        opts.json_out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    if opts.report:
        write_report(opts.report, text)
    return 0 if result["ok"] else 1


def write_report(path: Path, text: str) -> None:
    """Replace the block between the account markers of the report with this run's."""
    begin, end = "<!-- chaos-account:begin -->", "<!-- chaos-account:end -->"
    doc = path.read_text(encoding="utf-8") if path.exists() else f"{begin}\n{end}\n"
    head, _, rest = doc.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{begin}\n```text\n{text}\n```\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
