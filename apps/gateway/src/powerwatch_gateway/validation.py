"""Line validation: msgspec typed decode, then the clock-dependent checks.

Every line ends as exactly one of: an OutputRecord, a Rejection (with a reason
from `Reason`), or a blank keep-alive. Nothing raises out of `Validator`.
"""

from __future__ import annotations

import re
from binascii import hexlify
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import chain, islice, repeat
from operator import attrgetter, methodcaller
from typing import Final, NamedTuple

import msgspec

from powerwatch_gateway.model import TS_MIN, DriverReading, id_hasher


class Reason(StrEnum):
    """Why a line was rejected: the `reason` label of the rejects counter."""

    LINE_TOO_LONG = "line_too_long"
    INCOMPLETE_LINE = "incomplete_line"
    BAD_UTF8 = "bad_utf8"
    NOT_JSON = "not_json"
    NOT_FINITE = "not_finite"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    WRONG_TYPE = "wrong_type"
    BAD_DEVICE_ID = "bad_device_id"
    BAD_TIMESTAMP = "bad_timestamp"
    VOLTAGE_OUT_OF_RANGE = "voltage_out_of_range"
    CURRENT_OUT_OF_RANGE = "current_out_of_range"
    SEQ_OUT_OF_RANGE = "seq_out_of_range"
    TS_IN_FUTURE = "ts_in_future"
    TS_TOO_OLD = "ts_too_old"


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str
    raw: bytes


_NON_FINITE_TOKEN: Final = re.compile(rb"[:\[,]\s*-?(?:NaN|Infinity|inf|nan)\b")
_FIELD_REASONS: Final = {
    "device_id": Reason.BAD_DEVICE_ID,
    "ts": Reason.BAD_TIMESTAMP,
    "voltage": Reason.VOLTAGE_OUT_OF_RANGE,
    "current": Reason.CURRENT_OUT_OF_RANGE,
    "seq": Reason.SEQ_OUT_OF_RANGE,
}


def classify_error(raw: bytes, error: Exception) -> Rejection:
    """Map a decode failure to a reason (runs only for bad lines, so it may be slow)."""
    detail = str(error)[:200]
    if isinstance(error, UnicodeDecodeError):
        return Rejection(Reason.BAD_UTF8, detail, raw)
    if isinstance(error, msgspec.ValidationError):
        return Rejection(_validation_reason(detail), detail, raw)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(Reason.BAD_UTF8, str(exc)[:200], raw)
    if _NON_FINITE_TOKEN.search(raw):
        return Rejection(Reason.NOT_FINITE, "NaN/Infinity is not a number here", raw)
    return Rejection(Reason.NOT_JSON, detail, raw)


def _validation_reason(message: str) -> Reason:
    if message.startswith("Object missing required field"):
        return Reason.MISSING_FIELD
    if message.startswith("Object contains unknown field"):
        return Reason.UNKNOWN_FIELD
    if message.startswith("Number out of range"):
        return Reason.NOT_FINITE
    if "- at `$." not in message:
        return Reason.NOT_AN_OBJECT
    field = message.rsplit("- at `$.", 1)[1].rstrip("`")
    # A wrong JSON type ("Expected `float`, got `str`") is a schema error; a right
    # type with a bad value (range, regex, no timezone) is that field's reason.
    if ", got `" in message and field != "ts":
        return Reason.WRONG_TYPE
    return _FIELD_REASONS.get(field, Reason.WRONG_TYPE)


class Validated(NamedTuple):
    """The outcome of a chunk: the accepted records as NDJSON, and the rejections."""

    records: bytes  # output records, one per line, each ending in a newline
    accepted: int
    rejections: list[Rejection]
    last_ts: datetime | None  # of the last accepted reading (for the lag gauge)


_ts_of = attrgetter("ts")
_tz_of = attrgetter("tzinfo")
_digest = methodcaller("digest")
# Every encoded DriverReading line starts with `{"device_id":` and ends with `}`;
# neither sequence can occur inside it (device_id and ts exclude `{` `"` `}`).
_LINE_START: Final = b'{"device_id":'
_ID_KEY: Final = re.compile(rb'\{("device_id":"[^"]*","ts":"[^"]*","seq":(?:\d+|null)),')
_ID_PREFIX: Final = re.compile(rb"(.{32}).{96}", re.DOTALL)
_AFTER_ID: Final = b'","device_id":'


class Validator:
    """Turns raw lines into output records; safe on any bytes."""

    def __init__(self, max_future_skew: timedelta = timedelta(minutes=5)) -> None:
        self._decode = msgspec.json.Decoder(DriverReading).decode
        self._decode_many = msgspec.json.Decoder(list[DriverReading]).decode
        self._encode_lines = msgspec.json.Encoder().encode_lines
        self._max_future_skew = max_future_skew

    def validate(self, lines: list[bytes], received_at: datetime) -> Validated:
        """Validate a chunk of complete lines (without their newline)."""
        readings = self._decode_chunk(lines)
        future_limit = received_at + self._max_future_skew
        if readings is None or not _all_utc_in_window(readings, future_limit):
            readings, rejections = self._one_by_one(lines, future_limit)
        else:
            rejections = []
        records = self.emit(readings, received_at)
        last_ts = readings[-1].ts if readings else None
        return Validated(records, len(readings), rejections, last_ts)

    def emit(self, readings: list[DriverReading], received_at: datetime) -> bytes:
        """Encode accepted readings as output records, ids included, with no
        per-reading Python code: msgspec encodes, a regex picks each id key,
        `map` hashes, and one join puts `received_at` and `reading_id` in front
        of each encoded line."""
        if not readings:
            return b""
        encoded = self._encode_lines(readings)
        keys = _ID_KEY.findall(encoded)
        bodies = encoded.split(_LINE_START)  # ["", rest of line 1, rest of line 2, ...]
        if not len(keys) == len(bodies) - 1 == len(readings):  # impossible for valid readings
            raise RuntimeError("reading id keys do not match the readings")
        digests = hexlify(b"".join(map(_digest, map(id_hasher, keys))))
        ids = _ID_PREFIX.findall(digests)  # the first 32 hex digits of each 128
        head = b'{"received_at":' + msgspec.json.encode(received_at) + b',"reading_id":"'
        pieces = zip(repeat(head), ids, repeat(_AFTER_ID), islice(bodies, 1, None), strict=False)
        return b"".join(chain.from_iterable(pieces))

    def _decode_chunk(self, lines: list[bytes]) -> list[DriverReading] | None:
        """All lines in one C call, as the elements of a JSON array; None if any is bad.

        Sound because no field can hold a line boundary: device_id and ts are
        strings whose patterns exclude `{`, `}` and `,`, the rest are numbers; so
        with as many elements as lines, element i is exactly line i.
        """
        if not lines:
            return []
        try:
            readings = self._decode_many(b"[" + b",".join(lines) + b"]")
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None
        return readings if len(readings) == len(lines) else None

    def _one_by_one(
        self, lines: list[bytes], future_limit: datetime
    ) -> tuple[list[DriverReading], list[Rejection]]:
        """The slow path for a chunk with anything unusual: each line on its own."""
        readings: list[DriverReading] = []
        rejections: list[Rejection] = []
        decode = self._decode
        for line in lines:
            try:
                reading = decode(line)
            except (msgspec.DecodeError, UnicodeDecodeError) as error:
                if line.strip():  # a blank line is a keep-alive, not a reading
                    rejections.append(classify_error(line, error))
                continue
            ts = reading.ts
            if ts > future_limit:
                skew = self._max_future_skew
                rejections.append(
                    Rejection(Reason.TS_IN_FUTURE, f"ts more than {skew} ahead", line)
                )
            elif ts < TS_MIN:
                rejections.append(
                    Rejection(Reason.TS_TOO_OLD, f"ts before {TS_MIN:%Y-%m-%d}", line)
                )
            elif ts.tzinfo is not UTC:
                readings.append(msgspec.structs.replace(reading, ts=ts.astimezone(UTC)))
            else:
                readings.append(reading)
        return readings, rejections


def _all_utc_in_window(readings: list[DriverReading], future_limit: datetime) -> bool:
    """True when every ts is already UTC and inside [TS_MIN, future_limit] (C-level loops)."""
    if not readings:
        return True
    stamps = list(map(_ts_of, readings))
    if set(map(_tz_of, stamps)) != {UTC}:
        return False
    return bool(max(stamps) <= future_limit and min(stamps) >= TS_MIN)
