"""The durable spool: order, sealing, recovery after a crash, consumer checkpoints."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from powerwatch_gateway.model import OutputRecord, reading_id
from powerwatch_gateway.spool import (
    DepthGauge,
    Position,
    SpoolError,
    SpoolReader,
    SpoolWriter,
    read_checkpoint,
)

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def records(start: int, count: int) -> bytes:
    encoder = msgspec.json.Encoder()
    items = [
        OutputRecord(
            reading_id=reading_id("d", T0, i),
            device_id="d",
            ts=T0,
            seq=i,
            voltage=230.0,
            current=1.0,
            received_at=T0,
        )
        for i in range(start, start + count)
    ]
    return encoder.encode_lines(items)


def seqs(lines: list[bytes]) -> list[int]:
    return [msgspec.json.decode(line, type=OutputRecord).seq or 0 for line in lines]


def die(writer: SpoolWriter) -> None:
    """What the kernel does for a killed process: close its descriptors, nothing else."""
    for fd in (writer._fd, writer._lock_fd):
        if fd is not None:
            os.close(fd)


def read_all(reader: SpoolReader) -> list[bytes]:
    return list(reader.iter_records())


def test_appends_are_read_back_in_order_across_sealed_segments(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, segment_max_bytes=2000)
    writer.open()
    for start in range(0, 100, 10):
        writer.append(records(start, 10))
    writer.close()
    names = sorted(p.name for p in (tmp_path / "segments").iterdir())
    assert len(names) > 3
    assert all(n.endswith(".ndjson") for n in names)
    assert seqs(read_all(SpoolReader(tmp_path, "test"))) == list(range(100))


def test_a_reader_follows_the_open_segment_and_its_sealing(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, segment_max_bytes=1 << 20)
    writer.open()
    writer.append(records(0, 3))
    reader = SpoolReader(tmp_path, "ingest")
    chunk = reader.read()
    assert chunk is not None
    assert seqs(chunk.lines) == [0, 1, 2]
    reader.commit(chunk.end)
    assert reader.read() is None  # caught up with the writer
    writer.append(records(3, 2))
    writer.seal()  # .open → .ndjson: the position (segment, offset) stays valid
    writer.append(records(5, 1))
    assert seqs(read_all(reader)) == [3, 4, 5]
    writer.close()


def test_checkpoints_survive_a_new_reader_and_acknowledge_durably(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path)
    writer.open()
    writer.append(records(0, 5))
    reader = SpoolReader(tmp_path, "ingest")
    chunk = reader.read()
    assert chunk is not None
    reader.commit(chunk.end)
    writer.append(records(5, 5))
    writer.close()
    assert read_checkpoint(tmp_path / "consumers" / "ingest.json") == chunk.end
    assert seqs(read_all(SpoolReader(tmp_path, "ingest"))) == [5, 6, 7, 8, 9]
    assert seqs(read_all(SpoolReader(tmp_path, "other"))) == list(range(10))


def test_a_torn_trailing_record_after_a_crash_is_cut_reported_and_the_rest_kept(
    tmp_path: Path,
) -> None:
    writer = SpoolWriter(tmp_path)
    writer.open()
    writer.append(records(0, 4))
    open_segment = next((tmp_path / "segments").glob("*.open"))
    # simulate kill -9 in the middle of a write: half a record, no newline
    with open_segment.open("ab") as handle:
        handle.write(records(4, 1)[:40])
    die(writer)
    reopened = SpoolWriter(tmp_path)
    reopened.open()
    (recovery,) = reopened.recoveries
    assert (recovery.kept_records, recovery.dropped_bytes) == (4, 40)
    reopened.append(records(5, 1))
    reopened.close()
    assert seqs(read_all(SpoolReader(tmp_path, "x"))) == [0, 1, 2, 3, 5]
    assert not list((tmp_path / "segments").glob("*.open"))


def test_garbage_complete_lines_at_the_tail_are_dropped_too(tmp_path: Path) -> None:
    segments = tmp_path / "segments"
    segments.mkdir(parents=True)
    (segments / f"{7:020d}.open").write_bytes(records(0, 2) + b"\x00\x00\x00\n{not a record}\n")
    writer = SpoolWriter(tmp_path)
    writer.open()
    assert writer.recoveries[0].kept_records == 2
    writer.append(records(2, 1))  # continues with segment 8
    writer.close()
    assert sorted(p.name for p in segments.iterdir()) == [f"{7:020d}.ndjson", f"{8:020d}.ndjson"]
    assert seqs(read_all(SpoolReader(tmp_path, "x"))) == [0, 1, 2]


def test_only_one_writer_at_a_time(tmp_path: Path) -> None:
    first = SpoolWriter(tmp_path)
    first.open()
    with pytest.raises(SpoolError, match="in use"):
        SpoolWriter(tmp_path).open()
    first.close()


def test_prune_deletes_only_what_every_consumer_has_passed(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, segment_max_bytes=1000)
    writer.open()
    for start in range(0, 60, 6):
        writer.append(records(start, 6))
    assert writer.prune() == 0  # no consumer registered yet: keep everything
    fast, slow = SpoolReader(tmp_path, "fast"), SpoolReader(tmp_path, "slow")
    while (chunk := fast.read(max_bytes=500)) is not None:
        fast.commit(chunk.end)
    first = slow.read(max_bytes=500)
    assert first is not None
    slow.commit(first.end)
    assert writer.prune() == 0  # slow is still in the first segment
    while (chunk := slow.read(max_bytes=500)) is not None and chunk.end.segment < 4:
        slow.commit(chunk.end)
    removed = writer.prune()
    assert removed >= 2
    assert seqs(read_all(SpoolReader(tmp_path, "slow"))) == seqs(read_all(slow))
    writer.close()


def test_depth_counts_what_the_slowest_consumer_has_not_read(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, segment_max_bytes=1000)
    writer.open()
    writer.append(records(0, 20))
    writer.append(records(20, 5))
    gauge = DepthGauge(tmp_path)
    assert gauge.measure().records == 25
    reader = SpoolReader(tmp_path, "ingest")
    chunk = reader.read(max_bytes=700)
    assert chunk is not None
    reader.commit(chunk.end)
    assert gauge.measure().records == 25 - len(chunk.lines)
    writer.close()


def test_position_is_plain_json_for_other_consumers(tmp_path: Path) -> None:
    reader = SpoolReader(tmp_path, "ingest")
    reader.commit(Position(3, 1234))
    assert msgspec.json.decode((tmp_path / "consumers" / "ingest.json").read_bytes()) == {
        "segment": 3,
        "offset": 1234,
    }


def test_a_short_write_on_a_full_disk_is_cut_so_the_retry_glues_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full mid-batch: the kernel writes part of the batch, then ENOSPC. The
    retry must append the whole batch at the same offset, or the torn part glues onto
    the retried first record and that record is lost (found while building bench/chaos.py's
    full-disk fault). The disk is the one thing faked: os.write fails like a full filesystem."""
    writer = SpoolWriter(tmp_path)
    writer.open()
    writer.append(records(0, 2))
    real_write = os.write
    fail = {"once": True}

    def full_disk(fd: int, data: memoryview) -> int:
        if fail.pop("once", False):
            real_write(fd, bytes(data[:7]))  # part of the first record, then no space
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr("powerwatch_gateway.spool.os.write", full_disk)
    batch = records(2, 3)
    with pytest.raises(OSError, match="No space"):
        writer.append(batch)
    writer.append(batch)  # the pipeline's retry, once space is back
    writer.close()
    assert seqs(read_all(SpoolReader(tmp_path, "check"))) == [0, 1, 2, 3, 4]
