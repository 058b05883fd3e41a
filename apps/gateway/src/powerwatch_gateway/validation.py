"""Line validation: msgspec typed decode, then the clock-dependent checks.

Every line ends as exactly one of: an OutputRecord, a Rejection (with a reason
from `Reason`), or a blank keep-alive. Nothing raises out of `Validator`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import Final, NamedTuple

import msgspec

from powerwatch_gateway.model import (
    DEVICE_ID_PATTERN,
    ID_SEPARATOR,
    TS_MIN,
    ChunkReading,
    DriverReading,
)


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
_device_of = attrgetter("device_id")
_id_fields = attrgetter("device_id", "ts", "seq")
_DEVICE_ID: Final = re.compile(DEVICE_ID_PATTERN)  # the same test msgspec makes (`search`)
_ONLY_UTC: Final = frozenset({UTC})
_KNOWN_IDS_MAX: Final = 100_000  # bound on remembered good device ids (memory)
_JOIN: Final = b",\n"
_BOUNDARY: Final = b"},\n{"
# `["dev","2026-…Z",812]` → `dev_2026-…Z_812`: drop JSON punctuation, `,` becomes
# the separator. Sound because a device id (pattern) and a canonical timestamp
# contain none of `"` `[` `]` `,` `{`; so `{` also starts each encoded reading.
_ID_TEXT: Final = bytes.maketrans(b",", ID_SEPARATOR.encode())
_ID_DROP: Final = b'"[]'
_NO_SEQ: Final = (ID_SEPARATOR + "null\n").encode(), (ID_SEPARATOR + "\n").encode()


class Validator:
    """Turns raw lines into output records; safe on any bytes."""

    def __init__(self, max_future_skew: timedelta = timedelta(minutes=5)) -> None:
        self._decode = msgspec.json.Decoder(DriverReading).decode
        self._decode_many = msgspec.json.Decoder(list[ChunkReading]).decode
        self._encode = msgspec.json.encode
        self._encode_lines = msgspec.json.Encoder().encode_lines
        self._max_future_skew = max_future_skew
        self._good_device_ids: set[str] = set()

    def validate(self, lines: list[bytes], received_at: datetime) -> Validated:
        """Validate a chunk of complete lines, as `LineSplitter` gives them: without
        their newline, and none inside (the fast path relies on that)."""
        future_limit = received_at + self._max_future_skew
        chunk = self._decode_chunk(lines)
        readings: list[DriverReading] | list[ChunkReading]
        rejections: list[Rejection] = []
        if chunk is not None and self._all_good(chunk, future_limit):
            readings = chunk
        else:
            readings, rejections = self._one_by_one(lines, future_limit)
        records = self.emit(readings, received_at)
        last_ts = readings[-1].ts if readings else None
        return Validated(records, len(readings), rejections, last_ts)

    def emit(
        self, readings: list[DriverReading] | list[ChunkReading], received_at: datetime
    ) -> bytes:
        """Encode accepted readings as output records, ids included, with no
        per-reading Python code: msgspec encodes the readings, and separately
        each reading's (device_id, ts, seq), which `translate` turns into its id;
        one join puts `received_at` and `reading_id` in front of each reading."""
        if not readings:
            return b""
        bodies = self._encode_lines(readings).split(b"{")  # ["", line 1 after its "{", ...]
        ids = self._encode_lines(map(_id_fields, readings)).translate(_ID_TEXT, _ID_DROP)
        if _NO_SEQ[0] in ids:
            ids = ids.replace(*_NO_SEQ)
        id_texts = ids.split(b"\n")  # [id 1, ..., id n, ""]
        count = len(readings)
        if not len(id_texts) == len(bodies) == count + 1:  # impossible for valid readings
            raise RuntimeError("reading ids do not match the readings")
        head = b'{"received_at":' + self._encode(received_at) + b',"reading_id":"'
        pieces = [head, b"", b'",', b""] * count
        pieces[1::4] = id_texts[:-1]
        pieces[3::4] = bodies[1:]
        return b"".join(pieces)

    def _all_good(self, readings: list[ChunkReading], future_limit: datetime) -> bool:
        """The checks `ChunkReading` leaves out, over the whole chunk in C-level loops:
        device ids match the pattern (each new id once), every ts is UTC and inside
        [TS_MIN, future_limit]. False sends the chunk to the line-by-line path."""
        if not readings:
            return True
        known = self._good_device_ids
        if not known.issuperset(map(_device_of, readings)):
            new_ids = set(map(_device_of, readings)) - known
            if not all(map(_DEVICE_ID.search, new_ids)):
                return False
            if len(known) > _KNOWN_IDS_MAX:
                known.clear()
            known |= new_ids
        stamps = list(map(_ts_of, readings))
        if not _ONLY_UTC.issuperset(map(_tz_of, stamps)):
            return False
        return bool(max(stamps) <= future_limit and min(stamps) >= TS_MIN)

    def _decode_chunk(self, lines: list[bytes]) -> list[ChunkReading] | None:
        """All lines in one C call, as the elements of a JSON array; None if any is bad.

        Element i must be exactly line i, never two lines merged (`{"a":1` and
        `"b":2}`) while another line holds two objects. Lines are joined with a
        comma and a newline, and a line holds no newline (`LineSplitter` splits
        on it; `validate`'s precondition), so `}`, comma,
        newline, `{` can only be a join point: if all join points look like that,
        every line starts with `{` and ends with `}`. An accepted reading has
        exactly one `{` and one `}` (no nested values; `_all_good` refuses a
        device id with braces, a ts with them does not parse), so each line then
        holds exactly one element. Anything else (even a tolerated carriage
        return at a line end) takes the line-by-line path.
        """
        if not lines:
            return []
        chunk = b"[" + _JOIN.join(lines) + b"]"
        if not (chunk.startswith(b"[{") and chunk.endswith(b"}]")):
            return None
        if chunk.count(_BOUNDARY) != len(lines) - 1:
            return None
        try:
            readings = self._decode_many(chunk)
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
