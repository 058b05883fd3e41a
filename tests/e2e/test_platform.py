"""End to end: simulated Driver -> gateway (mTLS) -> spool -> ingestion -> API.

Real processes on dynamic ports. A surge from the simulator must appear in the events
API with its device, power and threshold; kill -9 and restarts of the gateway and of
the ingestion (+API) process mid-stream must neither lose nor double-count a reading:
every distinct reading the gateway made durable (its spool: what the platform
acknowledged) is stored exactly once, valid or quarantined.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from powerwatch_gateway.model import reading_id
from powerwatch_gateway.spool import Position, SpoolReader, SpoolWriter, write_checkpoint
from powerwatch_kusto import LocalKusto

THRESHOLD_W = 5000.0
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def seeded_record(
    device: str, ts: datetime, current: float, voltage: float | None
) -> dict[str, Any]:
    return {
        "reading_id": reading_id(device, ts, None), "device_id": device, "ts": iso(ts),
        "voltage": voltage, "current": current, "seq": None, "received_at": iso(ts),
    }  # fmt: skip


def seed_spool(spool: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Before the gateway starts: a backfilled segment with a late surge, a duplicate and
    a record only the store can judge (no voltage: quarantined). An `audit` consumer
    parked at the start keeps every segment from being pruned, so the test can count."""
    late = seeded_record("drv-late", NOW - timedelta(minutes=20), 30.0, 231.0)
    broken = seeded_record("drv-late", NOW - timedelta(minutes=19), 3.0, None)
    writer = SpoolWriter(spool)
    writer.open()
    writer.append(b"".join(msgspec.json.encode(r) + b"\n" for r in (late, broken, late)))
    writer.close()
    write_checkpoint(spool / "consumers" / "audit.json", Position(0, 0))
    return late, broken


def spool_records(spool: Path) -> dict[str, dict[str, Any]]:
    """Every distinct record in the spool, by reading id."""
    reader = SpoolReader(spool, "e2e-count")  # never commits: no checkpoint written
    return {r["reading_id"]: r for r in map(msgspec.json.decode, reader.iter_records())}


def scalar(engine: LocalKusto, kql: str) -> int:
    return int(engine.query(kql).rows[0][0])


@pytest.mark.slow
def test_surge_reaches_the_api_and_restarts_lose_nothing(platform: Any) -> None:
    late, broken = seed_spool(platform.spool)
    platform.start()
    sim, gateway, serve = (platform.procs[n] for n in ("driver-sim", "gateway", "serve"))
    window = f"?from={iso(NOW - timedelta(hours=1))}&limit=1000"

    # 1. A simulated surge shows up as a critical event, with the right numbers.
    def simulated_event() -> dict[str, Any] | None:
        items = platform.get("/api/v1/events" + window)["items"]
        return next((e for e in items if e["device_id"] != "drv-late"), None)

    event = platform.wait(simulated_event, 90, f"a simulator surge in the API\n{platform.logs()}")
    spooled = spool_records(platform.spool)[event["reading_id"]]
    assert event["device_id"] == spooled["device_id"]
    assert re.fullmatch(r"drv-0[1-4]", event["device_id"])
    assert event["voltage"] == spooled["voltage"]
    assert event["current"] == spooled["current"]
    assert event["power_w"] == pytest.approx(spooled["voltage"] * spooled["current"])
    assert event["power_w"] > THRESHOLD_W
    assert event["threshold_w"] == THRESHOLD_W
    assert event["excess_w"] == pytest.approx(event["power_w"] - THRESHOLD_W)
    # The late reading landed at its own time, once.
    late_events = [
        e for e in platform.get("/api/v1/events" + window)["items"] if e["device_id"] == "drv-late"
    ]
    assert [(e["reading_id"], e["ts"]) for e in late_events] == [(late["reading_id"], late["ts"])]

    # 2. kill -9 mid-stream, then restart: the gateway, the ingestion (+API), both.
    def spool_grows(than: int) -> bool:
        return len(spool_records(platform.spool)) > than + 10

    for victims in (["gateway"], ["serve"], ["gateway", "serve"]):
        count = len(spool_records(platform.spool))
        for name in victims:
            platform.procs[name].kill9()
        time.sleep(0.3)
        for name in victims:
            platform.procs[name].start()
        platform.wait(lambda c=count: spool_grows(c), 60, f"readings after restarting {victims}")
        platform.wait(platform.api_ready, 60, "the API after the restart")
    assert gateway.starts == 3
    assert serve.starts == 3

    # 3. Stop the source, let the gateway flush, let ingestion catch up, stop cleanly.
    assert sim.stop() == 0
    assert gateway.stop() == 0

    def caught_up() -> bool:
        fresh = SpoolReader(platform.spool, "local-ingest")
        return fresh.read() is None

    platform.wait(caught_up, 60, "ingestion to reach the end of the spool")
    api_events = platform.get("/api/v1/events" + window)["items"]
    assert serve.stop() == 0

    # 4. Readings in (distinct, durable in the spool) = stored + quarantined, no duplicates.
    records = spool_records(platform.spool)
    over = {
        i
        for i, r in records.items()
        if r["voltage"] is not None and r["voltage"] * r["current"] > THRESHOLD_W
    }
    with LocalKusto(database=str(platform.database)) as engine:
        raw = scalar(engine, "RawReadings | count")
        distinct = scalar(engine, "RawReadings | summarize dcount(ReadingId)")
        valid = scalar(engine, "ValidReadings() | count")
        quarantined = scalar(engine, "QuarantinedReadings | count")
        events = scalar(engine, "PowerEvents | count")
        distinct_events = scalar(engine, "PowerEvents | summarize dcount(ReadingId)")
        stored_ids = {row[0] for row in engine.query("RawReadings | project ReadingId").rows}
    assert len(records) > 100
    assert stored_ids == set(records)
    assert raw == distinct == len(records)
    assert valid + quarantined == len(records)
    assert quarantined == 1  # the seeded record without voltage; the gateway spools only valid ones
    assert events == distinct_events == len(over)
    assert len({e["reading_id"] for e in api_events}) == len(api_events)
    assert {e["reading_id"] for e in api_events} == over
    assert broken["reading_id"] in stored_ids
    # What the simulator emitted bounds what arrived (readings sent while the gateway
    # was down are missed by design: Driver does not replay).
    emitted = sum(int(n) for n in re.findall(r'"emitted": (\d+)', sim.log.read_text()))
    assert emitted >= len(records) - 2 > 0
