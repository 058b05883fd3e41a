"""The line validator: every reason, round trips, and property tests (hypothesis)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from powerwatch_gateway.model import DriverReading, OutputRecord, reading_id
from powerwatch_gateway.validation import Reason, Rejection, Validator

NOW = datetime(2026, 11, 25, 18, 0, 5, tzinfo=UTC)
GOOD = (
    b'{"device_id":"drv-01","ts":"2026-11-25T18:00:00.000Z",'
    b'"voltage":230.4,"current":4.2,"seq":812}'
)


def check(validator: Validator, lines: list[bytes]) -> tuple[list[OutputRecord], list[Rejection]]:
    """Validate and decode the emitted NDJSON back into records."""
    result = validator.validate(lines, NOW)
    records = [decode_record(line) for line in result.records.splitlines()]
    assert len(records) == result.accepted
    return records, result.rejections


def validate(*lines: bytes) -> tuple[list[OutputRecord], list[Rejection]]:
    return check(Validator(), list(lines))


decode_record = msgspec.json.Decoder(OutputRecord).decode


def test_the_contract_example_becomes_an_output_record() -> None:
    records, rejections = validate(GOOD)
    assert rejections == []
    (record,) = records
    assert (record.device_id, record.voltage, record.current, record.seq) == (
        "drv-01",
        230.4,
        4.2,
        812,
    )
    assert record.ts == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    assert record.received_at == NOW
    assert record.reading_id == reading_id("drv-01", record.ts, 812)
    line = Validator().validate([GOOD], NOW).records
    fields = list(msgspec.json.decode(line))
    assert fields == ["received_at", "reading_id", "device_id", "ts", "seq", "voltage", "current"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"not json", Reason.NOT_JSON),
        (b'{"device_id":"a"', Reason.NOT_JSON),
        (b"[1,2]", Reason.NOT_AN_OBJECT),
        (b'"text"', Reason.NOT_AN_OBJECT),
        (
            b'{"device_id":"\xff","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}',
            Reason.BAD_UTF8,
        ),
        (b'\xc3\x28{"x":1}', Reason.BAD_UTF8),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":NaN,"current":1}',
            Reason.NOT_FINITE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":Infinity,"current":1}',
            Reason.NOT_FINITE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1e999,"current":1}',
            Reason.NOT_FINITE,
        ),
        (b'{"ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}', Reason.MISSING_FIELD),
        (b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1}', Reason.MISSING_FIELD),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1,"x":1}',
            Reason.UNKNOWN_FIELD,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":"230","current":1}',
            Reason.WRONG_TYPE,
        ),
        (b'{"device_id":7,"ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}', Reason.WRONG_TYPE),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":true,"current":1}',
            Reason.WRONG_TYPE,
        ),
        (
            b'{"device_id":"-a","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}',
            Reason.BAD_DEVICE_ID,
        ),
        (
            b'{"device_id":"'
            + b"a" * 65
            + b'","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}',
            Reason.BAD_DEVICE_ID,
        ),
        (
            b'{"device_id":"a b","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}',
            Reason.BAD_DEVICE_ID,
        ),
        (
            b'{"device_id":"a\\n","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}',
            Reason.BAD_DEVICE_ID,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00","voltage":1,"current":1}',
            Reason.BAD_TIMESTAMP,
        ),
        (b'{"device_id":"a","ts":"yesterday","voltage":1,"current":1}', Reason.BAD_TIMESTAMP),
        (b'{"device_id":"a","ts":1764093600,"voltage":1,"current":1}', Reason.BAD_TIMESTAMP),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":-1,"current":1}',
            Reason.VOLTAGE_OUT_OF_RANGE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1000.5,"current":1}',
            Reason.VOLTAGE_OUT_OF_RANGE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1,"current":-0.1}',
            Reason.CURRENT_OUT_OF_RANGE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1e6}',
            Reason.CURRENT_OUT_OF_RANGE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1,"seq":-1}',
            Reason.SEQ_OUT_OF_RANGE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1,"seq":1e3}',
            Reason.WRONG_TYPE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1,"seq":99999999999999999999}',
            Reason.SEQ_OUT_OF_RANGE,
        ),
        (
            b'{"device_id":"a","ts":"2026-11-25T18:10:00Z","voltage":1,"current":1}',
            Reason.TS_IN_FUTURE,
        ),
        (
            b'{"device_id":"a","ts":"1970-01-01T00:00:00Z","voltage":1,"current":1}',
            Reason.TS_TOO_OLD,
        ),
    ],
)
def test_each_bad_line_gets_its_reason_and_good_lines_still_pass(
    line: bytes, reason: Reason
) -> None:
    records, rejections = validate(GOOD, line, GOOD)
    assert [r.reason for r in rejections] == [reason]
    assert rejections[0].raw == line
    assert len(records) == 2


def test_blank_lines_are_keep_alives_not_readings_or_rejects() -> None:
    records, rejections = validate(b"", b"\r", b"  ", GOOD)
    assert (len(records), rejections) == (1, [])


def test_offsets_are_normalised_to_utc_and_keep_the_same_id() -> None:
    variants = [
        b'{"device_id":"d","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1,"seq":3}',
        b'{"device_id":"d","ts":"2026-11-25T18:00:00.000+00:00","voltage":1,"current":1,"seq":3}',
        b'{"device_id":"d","ts":"2026-11-25T20:00:00+02:00","voltage":1.0,"current":1.0,"seq":3}',
    ]
    records, rejections = validate(*variants)
    assert rejections == []
    assert {r.reading_id for r in records} == {records[0].reading_id}
    assert all(r.ts.tzinfo is UTC for r in records)


def test_future_limit_follows_the_configured_skew() -> None:
    line = b'{"device_id":"d","ts":"2026-11-25T18:02:00Z","voltage":1,"current":1}'
    assert check(Validator(timedelta(minutes=5)), [line])[1] == []
    assert check(Validator(timedelta(seconds=30)), [line])[1][0].reason is Reason.TS_IN_FUTURE


# -- properties ------------------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"")), max_size=20))
def test_random_bytes_never_crash_and_every_line_is_accounted_for(lines: list[bytes]) -> None:
    records, rejections = validate(*lines)
    blank = sum(1 for line in lines if not line.strip())
    assert len(records) + len(rejections) + blank == len(lines)
    assert all(isinstance(r.reason, Reason) for r in rejections)


def _json_texts() -> st.SearchStrategy[bytes]:
    """Near-miss lines: JSON objects with the right keys and random values."""
    values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30))
    keys = st.sampled_from(["device_id", "ts", "voltage", "current", "seq", "x"])
    return st.dictionaries(keys, values, max_size=6).map(lambda d: msgspec.json.encode(d))


@settings(max_examples=300, deadline=None)
@given(st.lists(_json_texts(), max_size=15))
def test_chunk_decoding_agrees_with_line_by_line(lines: list[bytes]) -> None:
    """The one-call array fast path must give exactly what line-by-line gives."""
    validator = Validator()
    fast = validator.validate(lines, NOW)
    readings, rejections = validator._one_by_one(lines, NOW + timedelta(minutes=5))
    assert fast.records == validator.emit(readings, NOW)
    assert sorted(r.reason for r in fast.rejections) == sorted(r.reason for r in rejections)


device_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2026, 11, 25, 18, 0), timezones=st.just(UTC)
)
volts = st.floats(min_value=0.0, max_value=1000.0, allow_nan=False)
amps = st.floats(min_value=0.0, max_value=1000.0, allow_nan=False)
seqs = st.one_of(st.none(), st.integers(min_value=0, max_value=2**63 - 1))


@settings(max_examples=300, deadline=None)
@given(device_ids, instants, volts, amps, seqs)
def test_every_valid_reading_round_trips(
    device_id: str, ts: datetime, voltage: float, current: float, seq: int | None
) -> None:
    reading = DriverReading(device_id=device_id, ts=ts, voltage=voltage, current=current, seq=seq)
    records, rejections = validate(msgspec.json.encode(reading))
    assert rejections == []
    (record,) = records
    assert (record.device_id, record.ts, record.seq) == (device_id, ts, seq)
    assert math.isclose(record.voltage, voltage)
    assert record.voltage == voltage
    assert record.current == current
    assert record.reading_id == reading_id(device_id, ts, seq)
    # and the output record itself survives its own encoding
    again = msgspec.json.decode(msgspec.json.encode(record), type=type(record))
    assert again == record


def test_lines_that_only_parse_when_joined_are_rejected_line_by_line() -> None:
    """Two halves of an object plus a line with two objects: 3 lines, 3 array
    elements when joined, but none of them is a reading on its own."""
    reading = b'{"device_id":"d","ts":"2026-11-25T18:00:00Z","voltage":1,"current":1}'
    lines = [
        b'{"device_id":"a","ts":"2026-11-25T18:00:00Z"',
        b'"voltage":1,"current":1}',
        reading + b"," + reading,
    ]
    records, rejections = validate(*lines)
    assert records == []
    assert [r.raw for r in rejections] == lines


def test_a_bad_device_id_in_a_chunk_is_rejected_and_the_rest_goes_through() -> None:
    validator = Validator()
    good = [GOOD.replace(b"drv-01", f"drv-{i}".encode()) for i in range(5)]
    records, rejections = check(validator, good)  # the ids are now known good
    assert (len(records), rejections) == (5, [])
    bad = GOOD.replace(b"drv-01", b"drv 01")
    records, rejections = check(validator, [*good, bad, b'{"x":1} '])
    assert [r.reason for r in rejections] == [Reason.BAD_DEVICE_ID, Reason.UNKNOWN_FIELD]
    assert [r.device_id for r in records] == [f"drv-{i}" for i in range(5)]


def test_fast_and_line_by_line_paths_emit_the_same_records() -> None:
    """A trailing carriage return (tolerated) sends a chunk down the slow path."""
    lines = [GOOD, GOOD.replace(b',"seq":812', b"").replace(b"drv-01", b"drv-02")]
    fast = Validator().validate(lines, NOW)
    slow = Validator().validate([line + b"\r" for line in lines], NOW)
    assert fast.records == slow.records
    ids = [decode_record(line).reading_id for line in fast.records.splitlines()]
    assert ids == ["drv-01_2026-11-25T18:00:00Z_812", "drv-02_2026-11-25T18:00:00Z_"]
