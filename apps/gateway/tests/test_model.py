"""Stable reading ids."""

import re
from datetime import UTC, datetime, timedelta, timezone

import msgspec
from powerwatch_gateway.model import ChunkReading, DriverReading, reading_id

TS = datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=UTC)


def test_same_reading_same_id_and_any_field_changes_it() -> None:
    base = reading_id("drv-01", TS, 812)
    assert base == reading_id("drv-01", TS, 812)
    assert base != reading_id("drv-02", TS, 812)
    assert base != reading_id("drv-01", TS + timedelta(microseconds=1), 812)
    assert base != reading_id("drv-01", TS, 813)
    assert base != reading_id("drv-01", TS, None)
    assert base != reading_id("drv-01", TS, 0)


def test_the_id_depends_on_the_instant_not_its_offset() -> None:
    plus_two = TS.astimezone(timezone(timedelta(hours=2)))
    assert reading_id("d", TS, None) == reading_id("d", plus_two, None)


def test_the_id_is_pinned() -> None:
    """Downstream de-duplicates on this value: changing the scheme is a breaking change."""
    whole_second = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    # the example in docs/protocol.md
    assert reading_id("drv-01", whole_second, 812) == "drv-01_2026-11-25T18:00:00Z_812"
    assert reading_id("d", TS, None) == "d_2026-11-25T18:00:00.123456Z_"
    assert reading_id("a_b", TS, 0) == "a_b_2026-11-25T18:00:00.123456Z_0"


def test_ids_are_unique_by_construction_even_with_the_separator_in_device_ids() -> None:
    """Read from the right, an id gives back its (device_id, ts, seq)."""
    parts = [("a_b", TS, 1), ("a", TS, None), ("a_b_c", TS + timedelta(seconds=1), 2**63 - 1)]
    for device_id, ts, seq in parts:
        rest, seq_text = reading_id(device_id, ts, seq).rsplit("_", 1)
        got_device, ts_text = rest.rsplit("_", 1)
        assert (got_device, datetime.fromisoformat(ts_text), seq_text) == (
            device_id,
            ts,
            "" if seq is None else str(seq),
        )


def test_ids_stay_within_the_characters_and_length_consumers_accept() -> None:
    longest = reading_id("x" * 64, TS, 2**63 - 1)
    assert re.fullmatch(r"[A-Za-z0-9_.:-]{1,128}", longest)  # the API's cursor check


def test_the_chunk_struct_mirrors_the_driver_reading() -> None:
    """The fast path decodes into ChunkReading; it must encode like DriverReading."""
    fields = msgspec.structs.fields
    assert [f.name for f in fields(ChunkReading)] == [f.name for f in fields(DriverReading)]
    reading = DriverReading(device_id="d", ts=TS, voltage=230.0, current=1.5, seq=None)
    same = ChunkReading(device_id="d", ts=TS, voltage=230.0, current=1.5, seq=None)
    assert msgspec.json.encode(reading) == msgspec.json.encode(same)
