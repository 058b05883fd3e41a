"""Local ingestion: spool -> LocalKusto, one transaction per batch, checkpoint after commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from powerwatch_gateway.model import reading_id
from powerwatch_gateway.spool import SpoolReader, SpoolWriter, read_checkpoint
from powerwatch_kusto import IngestError, IngestResult, LocalKusto
from powerwatch_local.ingest import IngestThread, SpoolIngestor, decode_lines

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)


def record(
    device: str, seconds: int, current: float, voltage: float | None = 230.0
) -> dict[str, Any]:
    ts = T0 + timedelta(seconds=seconds)
    stamp = ts.isoformat().replace("+00:00", "Z")
    return {
        "reading_id": reading_id(device, ts, seconds),
        "device_id": device,
        "ts": stamp,
        "voltage": voltage,
        "current": current,
        "seq": seconds,
        "received_at": stamp,
    }


def spool_with(
    directory: Path, batches: Iterable[list[dict[str, Any]] | bytes], segment_bytes: int = 4096
) -> Path:
    writer = SpoolWriter(directory, segment_max_bytes=segment_bytes)
    writer.open()
    for batch in batches:
        data = (
            batch
            if isinstance(batch, bytes)
            else b"".join(msgspec.json.encode(r) + b"\n" for r in batch)
        )
        writer.append(data)
    writer.close()
    return directory


def counts(engine: LocalKusto) -> dict[str, int]:
    out = {}
    for table in ("RawReadings", "PowerEvents", "QuarantinedReadings"):
        out[table] = int(engine.query(f"{table} | count").rows[0][0])
    out["distinct"] = int(engine.query("RawReadings | summarize dcount(ReadingId)").rows[0][0])
    return out


def test_every_batch_lands_in_all_tables_and_the_checkpoint_follows(tmp_path: Path) -> None:
    readings = [record("drv-01", s, 4.0) for s in range(50)]
    readings[10] = record("drv-01", 10, 30.0)  # 6,900 W: over the 5,000 W default
    readings[20] = record("drv-02", 20, 4.0, voltage=None)  # quarantined: no voltage
    spool = spool_with(tmp_path / "spool", [readings[:25], readings[25:]])
    with LocalKusto() as engine:
        ingestor = SpoolIngestor(spool, engine, consumer="test")
        assert ingestor.drain() == 50
        assert counts(engine) == {
            "RawReadings": 50, "PowerEvents": 1, "QuarantinedReadings": 1, "distinct": 50,
        }  # fmt: skip
        assert ingestor.stats.events == 1
        assert ingestor.stats.quarantined == 1
        assert ingestor.step() is None  # caught up
    position = read_checkpoint(spool / "consumers" / "test.json")
    last = sorted((spool / "segments").iterdir())[-1]
    assert position is not None
    assert (position.segment, position.offset) == (int(last.stem), last.stat().st_size)


def test_a_replayed_chunk_after_a_crash_is_not_counted_twice(tmp_path: Path) -> None:
    spool = spool_with(tmp_path / "spool", [[record("drv-01", s, 30.0) for s in range(20)]])
    with LocalKusto() as engine:
        first = SpoolIngestor(spool, engine, consumer="test")
        chunk = first.reader.read()
        assert chunk is not None
        records, _ = decode_lines(chunk.lines)
        engine.ingest(records)  # committed, then "crash" before the checkpoint
        assert read_checkpoint(spool / "consumers" / "test.json") is None
        again = SpoolIngestor(spool, engine, consumer="test")
        assert again.drain() == 20
        assert again.stats.duplicates == 20
        assert counts(engine) == {
            "RawReadings": 20, "PowerEvents": 20, "QuarantinedReadings": 0, "distinct": 20,
        }  # fmt: skip


class FailingOnce(LocalKusto):
    """Refuses the first batch the way LocalKusto does on a database error."""

    failed = False

    def ingest(self, records: Iterable[Mapping[str, Any]]) -> IngestResult:
        if not self.failed:
            self.failed = True
            raise IngestError("batch of n rejected, nothing stored: disk full")
        return super().ingest(records)


def test_a_refused_batch_keeps_the_checkpoint_and_is_retried(tmp_path: Path) -> None:
    spool = spool_with(tmp_path / "spool", [[record("drv-01", s, 4.0) for s in range(5)]])
    with FailingOnce() as engine:
        ingestor = SpoolIngestor(spool, engine, consumer="test")
        with pytest.raises(IngestError):
            ingestor.step()
        assert read_checkpoint(spool / "consumers" / "test.json") is None
        assert counts(engine)["RawReadings"] == 0
        assert ingestor.step() == 5
        assert counts(engine)["RawReadings"] == 5
        assert ingestor.stats.failures == 1


def test_late_and_out_of_order_readings_land_at_their_own_time(tmp_path: Path) -> None:
    newest = record("drv-01", 300, 30.0)
    late = record("drv-01", 5, 25.0)  # measured earlier, delivered later
    spool = spool_with(tmp_path / "spool", [[newest], [record("drv-01", 200, 4.0)], [late]])
    with LocalKusto() as engine:
        SpoolIngestor(spool, engine, consumer="test").drain()
        rows = engine.query(
            "declare query_parameters(f:datetime, t:datetime);"
            "CriticalEvents(f, t, '', 10, datetime(null), '')",
            {"f": T0, "t": T0 + timedelta(hours=1)},
        ).as_dicts()
    assert [r["ReadingId"] for r in rows] == [newest["reading_id"], late["reading_id"]]
    assert rows[1]["Timestamp"] == T0 + timedelta(seconds=5)


def test_lines_that_are_not_records_are_set_aside_and_the_rest_goes_in(tmp_path: Path) -> None:
    good = [record("drv-01", s, 4.0) for s in range(3)]
    spool = spool_with(
        tmp_path / "spool",
        [good[:1], b"not json at all\n[1, 2]\n", good[1:]],
    )
    rejected_file = tmp_path / "rejected.ndjson"
    with LocalKusto() as engine:
        ingestor = SpoolIngestor(spool, engine, consumer="test", rejected_file=rejected_file)
        assert ingestor.drain() == 3
        assert counts(engine)["RawReadings"] == 3
    assert ingestor.stats.rejected_lines == 2
    kept = [msgspec.json.decode(line) for line in rejected_file.read_bytes().splitlines()]
    assert [k["raw"] for k in kept] == ["not json at all", "[1, 2]"]
    assert kept[0]["reason"].startswith("not JSON")


@pytest.mark.slow
def test_kill_9_at_any_moment_neither_loses_nor_double_counts(tmp_path: Path) -> None:
    devices, seconds = 20, 100
    batches = [
        [record(f"drv-{d:02d}", s, 30.0 if s % 17 == 0 else 4.0) for d in range(devices)]
        for s in range(seconds)
    ]
    spool = spool_with(tmp_path / "spool", batches, segment_bytes=64 << 10)
    database = tmp_path / "local.duckdb"
    argv = [
        sys.executable, "-m", "powerwatch_local.ingest", "--spool", str(spool),
        "--database", str(database), "--batch-bytes", "8192",
    ]  # fmt: skip
    checkpoint = spool / "consumers" / "local-ingest.json"
    mid_stream_kills = 0
    for pause in (0.0, 0.13, 0.05, 0.21, 0.08):
        before = read_checkpoint(checkpoint)
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while read_checkpoint(checkpoint) == before and time.monotonic() < deadline:
            time.sleep(0.005)  # until this run has committed something
        time.sleep(pause)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if SpoolReader(spool, "local-ingest").read() is not None:
            mid_stream_kills += 1
    assert mid_stream_kills >= 3  # most kills really hit a process with work left
    subprocess.run([*argv, "--once"], check=True, capture_output=True, timeout=120)
    with LocalKusto(database=str(database)) as engine:
        got = counts(engine)
        events = int(engine.query("PowerEvents | summarize dcount(ReadingId)").rows[0][0])
    total = devices * seconds
    assert got == {
        "RawReadings": total, "PowerEvents": devices * len(range(0, seconds, 17)),
        "QuarantinedReadings": 0, "distinct": total,
    }  # fmt: skip
    assert events == got["PowerEvents"]
    assert SpoolReader(spool, "local-ingest").read() is None  # the checkpoint is at the end
    assert read_checkpoint(checkpoint) is not None


def test_the_background_ingestor_keeps_going_after_a_refused_batch(tmp_path: Path) -> None:
    spool = spool_with(tmp_path / "spool", [[record("drv-01", s, 4.0) for s in range(5)]])
    with FailingOnce() as engine:
        thread = IngestThread(SpoolIngestor(spool, engine, consumer="test"), poll_s=0.01)
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while counts(engine)["RawReadings"] < 5 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            thread.stop()
        assert counts(engine)["RawReadings"] == 5
        assert thread.ingestor.stats.failures == 1
