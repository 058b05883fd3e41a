"""API latency and throughput on the local store holding 10 million readings, against
the same questions asked as one hand-written DuckDB query per request.

One run, one server: the API (uvicorn, LocalStore over a DuckDB file, no cache: every
request runs the stored KQL function) in its own process, and the load from another
process (an aiohttp client). The server also mounts two routes that only this benchmark
adds (serve_main): the events and power questions as hand-written DuckDB SQL on the same
database instance, through a limiter of the same size — the baseline. For /healthz
(reference only), critical events, power series and both baselines it measures:

* latency p50/p99 under a fixed open-loop load (default 200 requests/s; latency is
  counted from each request's scheduled send time, so a stalled server cannot hide
  its queueing), and
* throughput under a closed loop of a fixed number of concurrent connections, in
  rounds that interleave the kinds (the median round is reported).

Targets (issue 13): events and power p99 < 20 ms at 200 req/s, and throughput >= 0.5x of
the hand-written-SQL route for the same question; in process, the stored KQL call <= 3x
the hand-written SQL. The server runs with the API's opt-in process tuning on
(POWERWATCH_API_GIL_SWITCH_INTERVAL_S=0.0002, POWERWATCH_API_GC_FREEZE=1, as a deployment
would set them; --no-tuning runs without); both routes share that process.

The load is random: a random device and a random 1-hour window inside the data per
request.

    .venv/bin/python bench/bench_api.py                 # 10 M readings, ~5 minutes
    .venv/bin/python bench/bench_api.py --readings 1000000 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess  # nosec B404
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from powerwatch_local.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 24, tzinfo=UTC)
DEVICES = 100

# 100 devices at 1 Hz from T0, time-ordered like a real ingest. Every 997th second of a
# device (staggered per device) starts a 5-reading surge at 30 A (6900 W > 5000 W).
GENERATE = """
INSERT INTO RawReadings BY NAME
SELECT
    'drv-' || lpad(CAST(i % {devices} AS VARCHAR), 3, '0') AS DeviceId,
    TIMESTAMP '2026-11-24 00:00:00' + to_seconds(i // {devices}) AS Timestamp,
    230.0 + ((i * 7919) % 100) / 50.0 AS Voltage,
    CASE WHEN ((i // {devices}) + (i % {devices}) * 13) % 997 < 5 THEN 30.0
         ELSE 4.0 + ((i * 104729) % 100) / 100.0 END AS Current,
    i // {devices} AS Seq,
    md5(CAST(i AS VARCHAR)) AS ReadingId,
    TIMESTAMP '2026-11-24 00:00:00' + to_seconds(i // {devices}) + INTERVAL 40 MILLISECOND
        AS ReceivedAt,
    NULL AS EnqueuedTime,
    TIMESTAMP '2026-11-24 00:00:00' + to_seconds(i // {devices}) + INTERVAL 2 SECOND
        AS IngestionTime
FROM range({rows}) t(i)
ORDER BY i
"""
# The update policy's rule (valid reading, over the default 5000 W), in SQL for speed.
DETECT = """
INSERT INTO PowerEvents BY NAME
SELECT *, Voltage * Current AS PowerW, 5000.0 AS ThresholdW,
       Voltage * Current - 5000.0 AS ExcessW
FROM RawReadings WHERE Voltage * Current > 5000.0
ORDER BY Timestamp
"""


def build_database(path: Path, rows: int) -> None:
    """Create the tables through LocalKusto, then fill them with DuckDB SQL directly."""
    import duckdb
    from powerwatch_kusto import LocalKusto

    marker = path.with_suffix(".rows")
    # The marker names the layout too: a database from before PowerMinutes is rebuilt.
    layout = f"{rows} readings, PowerMinutes in time order"
    if path.exists() and marker.exists() and marker.read_text() == layout:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = LocalKusto(database=path)
    # The per-minute aggregates come from the deployed update-policy query itself, run once
    # over the whole table (ingest would run it batch by batch: same rows, summed alike),
    # stored in time order as ingestion appends them (DuckDB skips row groups by Minute).
    aggregate, _ = engine.translate("AggregatePowerMinutes()")
    engine.close()
    started = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        con.execute(GENERATE.format(rows=rows, devices=DEVICES))
        con.execute(DETECT)
        con.execute(
            f"INSERT INTO PowerMinutes BY NAME SELECT * FROM ({aggregate}) ORDER BY Minute"  # nosec B608 - our own translated KQL
        )
        (events,) = con.execute("SELECT count(*) FROM PowerEvents").fetchone() or (0,)
        con.execute("CHECKPOINT")
    print(
        f"generated {rows:,} readings ({events:,} events) in {time.perf_counter() - started:.1f} s"
    )
    marker.write_text(layout)


# The same questions in hand-written DuckDB SQL: what the engine alone could do.
BASELINE_EVENTS = """
SELECT DeviceId, Timestamp, ReadingId, Voltage, Current, PowerW, ThresholdW, ExcessW, Seq
FROM PowerEvents WHERE DeviceId = $device AND Timestamp >= $start AND Timestamp < $end
ORDER BY Timestamp DESC, ReadingId DESC LIMIT 101
"""
BASELINE_POWER = """
SELECT time_bucket(INTERVAL 1 minute, Minute) AS BinStart, sum(SumPowerW) / sum(Readings),
       min(MinPowerW), max(MaxPowerW), sum(Readings), max(ThresholdW)
FROM PowerMinutes WHERE DeviceId = $device AND Minute >= $start AND Minute < $end
GROUP BY BinStart ORDER BY BinStart
"""


ENGINE_WARMUP = 3  # first calls per query shape, not counted (translation, first parse)
ENGINE_REPEAT = 60


def engine_breakdown(
    db: Path, rows: int, repeat: int = ENGINE_REPEAT
) -> dict[str, tuple[float, float]]:
    """Median ms per query, in process: the API's KQL on LocalKusto vs hand-written SQL.

    Both run on the same database instance, interleaved call by call (which goes first
    alternates), so the machine's drift over the run reaches both sides alike.
    """
    import duckdb
    from powerwatch_api import queries
    from powerwatch_kusto import LocalKusto

    hours = rows / DEVICES / 3600
    rng = random.Random(3)  # nosec B311
    cases = []
    for _ in range(repeat):
        start = T0 + timedelta(seconds=rng.randrange(int(max(hours - 1, 0.01) * 3600)))
        cases.append((f"drv-{rng.randrange(DEVICES):03d}", start, start + timedelta(hours=1)))
    kinds = (
        ("events", queries.CRITICAL_EVENTS, BASELINE_EVENTS),
        ("power", queries.POWER_SERIES, BASELINE_POWER),
    )
    kql_ms: dict[str, list[float]] = {name: [] for name, _, _ in kinds}
    sql_ms: dict[str, list[float]] = {name: [] for name, _, _ in kinds}
    engine = LocalKusto(database=db)
    database = duckdb.connect(str(db))  # the engine's instance (one per file and process)
    try:
        cursor = database.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        for name, query, sql in kinds:
            for n, (device, start, end) in enumerate(cases):
                params: dict[str, Any] = {"deviceId": device, "fromTime": start, "toTime": end}
                if name == "events":
                    params |= {"maxRows": 101, "afterTime": None, "afterReadingId": ""}
                else:
                    params["binSize"] = timedelta(minutes=1)
                values = {
                    "device": device,
                    "start": start.replace(tzinfo=None),
                    "end": end.replace(tzinfo=None),
                }

                def kql(query: Any = query, params: dict[str, Any] = params) -> None:
                    engine.query(query.text, params)

                def hand(sql: str = sql, values: dict[str, Any] = values) -> None:
                    cursor.execute(sql, values).fetchall()

                sides = ((kql, kql_ms[name]), (hand, sql_ms[name]))
                for call, times in sides if n % 2 else sides[::-1]:
                    began = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - began) * 1000)
    finally:
        database.close()
        engine.close()
    # The first calls translate the KQL and fault pages in: leave them out.
    return {
        name: (
            statistics.median(kql_ms[name][ENGINE_WARMUP:]),
            statistics.median(sql_ms[name][ENGINE_WARMUP:]),
        )
        for name, _, _ in kinds
    }


#: The API's opt-in process tuning (api/README.md, Settings), as a deployment sets it.
TUNING = {"POWERWATCH_API_GIL_SWITCH_INTERVAL_S": "0.0002", "POWERWATCH_API_GC_FREEZE": "1"}


def start_server(db: Path, port: int, tuned: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POWERWATCH_LOCAL_DB": str(db),
        "POWERWATCH_API_PORT": str(port),
        "POWERWATCH_API_LOG_LEVEL": "warning",
    }
    for name in TUNING:
        env.pop(name, None)
    if tuned:
        env |= TUNING
    server = subprocess.Popen(  # nosec B603
        [sys.executable, __file__, "--serve", "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"server exited: {server.stderr.read().decode() if server.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:  # nosec B310
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not become ready")


# --- the server (its own process) ---------------------------------------------------


def serve_main(db: Path) -> None:
    """The API exactly as `python -m powerwatch_api` builds and serves it, plus two routes
    that only this benchmark mounts: the same questions as the events and power endpoints
    answered by the hand-written SQL above, on the same database instance, through a limiter
    of the same size — one DuckDB query per request with no KQL and no validation."""
    import resource
    import threading

    import anyio
    import anyio.to_thread
    import duckdb
    from litestar import get
    from powerwatch_api.__main__ import serve
    from powerwatch_api.app import create_app
    from powerwatch_api.settings import Settings
    from powerwatch_api.stores.local import QUERY_THREADS

    settings = Settings.from_env()
    app = create_app(settings)
    limiter = anyio.CapacityLimiter(QUERY_THREADS)
    database = duckdb.connect(str(db))  # the same instance the store opens (one per file)
    database.execute("SET threads = 1")
    local = threading.local()

    def run(sql: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        cursor = getattr(local, "cursor", None)
        if cursor is None:
            cursor = local.cursor = database.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
        return cursor.execute(sql, values).fetchall()

    def window(device: str, start: str, end: str) -> dict[str, Any]:
        return {
            "device": device,
            "start": datetime.fromisoformat(start).replace(tzinfo=None),
            "end": datetime.fromisoformat(end).replace(tzinfo=None),
        }

    def hand_sql_route(kind: str, sql: str) -> Any:
        @get(f"/bench/hand-sql/{kind}", include_in_schema=False, name=f"hand-sql-{kind}")
        async def answer(device: str, from_: str, to: str) -> list[list[Any]]:
            values = window(device, from_, to)
            rows = await anyio.to_thread.run_sync(run, sql, values, limiter=limiter)
            return [list(row) for row in rows]

        return answer

    @get("/bench/peak-rss", include_in_schema=False, name="peak-rss")
    async def peak_rss() -> dict[str, Any]:
        # Linux reports ru_maxrss in KiB.
        return {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}

    app.register(hand_sql_route("events", BASELINE_EVENTS))
    app.register(hand_sql_route("power", BASELINE_POWER))
    app.register(peak_rss)
    serve(app, settings)


# --- the load generator (runs in its own process) ----------------------------------


def request_path(kind: str, device: int, start: datetime) -> str:
    """The request of *kind* for one device and the hour from *start*."""
    if kind == "trivial":
        return "/healthz"
    name = f"drv-{device:03d}"
    window = f"from={start:%Y-%m-%dT%H:%M:%SZ}&to={start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    if kind == "events":
        return f"/api/v1/events?device={name}&{window}&limit=100"
    if kind == "power":
        return f"/api/v1/devices/{name}/power?{window}&bin=1m"
    hand = window.replace("from=", "from_=")
    return f"/bench/hand-sql/{kind.removeprefix('sql-')}?device={name}&{hand}"


def request_paths(kind: str, hours: float, rng: random.Random) -> str:
    """A random device and a random 1-hour window inside the data."""
    device = rng.randrange(DEVICES)
    start = T0 + timedelta(seconds=rng.randrange(int(max(hours - 1, 0.01) * 3600)))
    return request_path(kind, device, start)


async def open_loop(base: str, kind: str, rate: float, seconds: float, hours: float) -> list[float]:
    """Requests at a fixed rate; latency from the scheduled send time (no coordinated omission)."""
    import aiohttp

    rng = random.Random(1)  # nosec B311
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(base, connector=connector) as session:

        async def one(path: str, scheduled: float) -> None:
            nonlocal errors
            async with session.get(path) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - scheduled)

        tasks = []
        start = time.perf_counter() + 0.05
        for n in range(int(rate * seconds)):
            scheduled = start + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(request_paths(kind, hours, rng), scheduled)))
        await asyncio.gather(*tasks)
    if errors:
        raise RuntimeError(f"{kind}: {errors} non-200 answers")
    return latencies


async def closed_loop(
    base: str, kind: str, concurrency: int, seconds: float, hours: float
) -> float:
    """Requests per second with a fixed number of requests always in flight."""
    import aiohttp

    rng = random.Random(2)  # nosec B311
    done = 0
    stop_at = time.perf_counter() + seconds
    async with aiohttp.ClientSession(
        base, connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                async with session.get(request_paths(kind, hours, rng)) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{kind}: HTTP {response.status}")
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


#: Requests per second of the light-load phase.
LIGHT_RATE = 10.0
#: What the server run measures: /healthz for reference, the two endpoints and the same
#: two questions as hand-written SQL (serve_main).
KINDS = ("trivial", "events", "power", "sql-events", "sql-power")
#: Each endpoint and the hand-written-SQL route asking its question.
BASELINES = {"events": "sql-events", "power": "sql-power"}


#: Throughput is measured in rounds, every kind once per round, and each kind's median
#: round is reported: the VM's speed drifts over minutes, and interleaving keeps that drift
#: out of the ratios.
ROUNDS = 5


def load_main(args: argparse.Namespace) -> None:
    base = f"http://127.0.0.1:{args.port}"
    hours = args.readings / DEVICES / 3600
    kinds = args.kinds.split(",")
    results: dict[str, Any] = {}
    for kind in kinds:
        # Warm-up: first queries translate the KQL and fault pages in.
        asyncio.run(open_loop(base, kind, 50, 1, hours))
        # Light load: the service time of one request, with no queue in front of it.
        light = asyncio.run(open_loop(base, kind, LIGHT_RATE, args.seconds, hours))
        latencies = asyncio.run(open_loop(base, kind, args.rate, args.seconds, hours))
        results[kind] = {
            "light_p50_ms": statistics.median(light) * 1000,
            "light_p99_ms": percentile(light, 0.99) * 1000,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "requests": len(latencies),
        }
    rounds: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(ROUNDS):
        for kind in kinds:
            rounds[kind].append(
                asyncio.run(
                    closed_loop(base, kind, args.concurrency, args.seconds / ROUNDS * 2, hours)
                )
            )
    for kind in kinds:
        results[kind] |= {
            "throughput": statistics.median(rounds[kind]),
            "throughput_range": (min(rounds[kind]), max(rounds[kind])),
        }
    print(json.dumps(results))


# --- the driver ----------------------------------------------------------------------


NAMES = {
    "trivial": "/healthz (reference)",
    "events": "/api/v1/events",
    "power": "/devices/{id}/power",
    "sql-events": "hand SQL: events",
    "sql-power": "hand SQL: power",
}


def report(results: dict[str, Any], rss: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\nload: {args.rate:.0f} req/s open loop for {args.seconds:.0f} s (latency); "
        f"{args.concurrency} connections closed loop, {ROUNDS} interleaved rounds of "
        f"{args.seconds / ROUNDS * 2:.0f} s, median round (throughput); process tuning "
        f"{'off' if args.no_tuning else 'on'}; peak RSS {rss.get('peak_rss_mib', '?')} MiB"
    )
    head = ("endpoint", "p50 ms", "p99 ms", "req/s", "rounds req/s")
    print(f"{head[0]:<22}{head[1]:>9}{head[2]:>9}{head[3]:>8}{head[4]:>15}")
    for kind in KINDS:
        r = results[kind]
        low, high = r["throughput_range"]
        print(
            f"{NAMES[kind]:<22}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['throughput']:>8.0f}"
            f"{f'{low:.0f}-{high:.0f}':>15}"
        )
    print(f"\nlight load ({LIGHT_RATE:.0f} req/s open loop): latency of one request, no queue")
    for kind in KINDS:
        r = results[kind]
        print(
            f"  {NAMES[kind]:<22} p50 {r['light_p50_ms']:8.2f} ms   p99 {r['light_p99_ms']:8.2f} ms"
        )
    print()
    for kind, baseline in BASELINES.items():
        r, b = results[kind], results[baseline]
        ratio = r["throughput"] / b["throughput"]
        p99_ok = "meets" if r["p99_ms"] < 20 else "MISSES"
        tp_ok = "meets" if ratio >= 0.5 else "MISSES"
        print(
            f"{NAMES[kind]}: p99 {r['p99_ms']:.1f} ms at {args.rate:.0f} req/s {p99_ok} the "
            f"< 20 ms target; throughput {r['throughput']:.0f} vs {b['throughput']:.0f} req/s "
            f"of {NAMES[baseline]} = {ratio:.2f}x {tp_ok} the >= 0.5x target"
        )


def run_server(db: Path, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """One server process, one load-generator process: each kind's results and the
    server's peak memory after the load."""
    import urllib.request

    port = free_port(0)
    server = start_server(db, port, tuned=not args.no_tuning)
    try:
        load = subprocess.run(  # nosec B603
            [
                sys.executable,
                __file__,
                "--load",
                "--port",
                str(port),
                "--kinds",
                ",".join(KINDS),
                "--readings",
                str(args.readings),
                "--rate",
                str(args.rate),
                "--concurrency",
                str(args.concurrency),
                "--seconds",
                str(args.seconds),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/peak-rss") as answer:  # nosec B310
            rss = json.loads(answer.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    return json.loads(load.stdout.strip().splitlines()[-1]), rss


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests per second")
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop connections")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each phase")
    parser.add_argument("--db", type=Path, default=ROOT / ".local" / "bench" / "api.duckdb")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--kinds", default=",".join(KINDS), help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-tuning", action="store_true", help="serve without the API's opt-in process tuning"
    )
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return
    if args.serve:
        serve_main(args.db)
        return
    build_database(args.db, args.readings)
    engine = engine_breakdown(args.db, args.readings)
    results, rss = run_server(args.db, args)
    shown = args.db.relative_to(ROOT) if args.db.is_relative_to(ROOT) else args.db
    print(f"readings: {args.readings:,} in {shown}")
    report(results, rss, args)
    print(
        "\nwhere the time goes (in process, no HTTP, median of "
        f"{ENGINE_REPEAT - ENGINE_WARMUP} random 1-hour windows, "
        "the two sides interleaved):"
    )
    for kind, (kql, sql) in engine.items():
        verdict = "meets" if kql <= 3 * sql else "MISSES"
        print(
            f"  {kind:<7} stored KQL on LocalKusto {kql:8.2f} ms   hand-written DuckDB SQL "
            f"{sql:7.2f} ms   ratio {kql / sql:5.2f}x {verdict} the <= 3x target"
        )


if __name__ == "__main__":
    main()
