"""The Driver line and the gateway output record, as msgspec Structs.

Ranges live in the types (msgspec checks them in C while decoding); the few
checks that need the clock are in `validation`. docs/protocol.md is the prose
version of this module: change both together.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Final

import msgspec

DEVICE_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
VOLTAGE_MIN_V: Final = 0.0
VOLTAGE_MAX_V: Final = 1000.0
CURRENT_MIN_A: Final = 0.0
CURRENT_MAX_A: Final = 1000.0
SEQ_MAX: Final = 2**63 - 1  # fits Kusto's long
# Readings older than this are not from a running Driver (clock reset, epoch 0).
TS_MIN: Final = datetime(2000, 1, 1, tzinfo=UTC)

DeviceId = Annotated[str, msgspec.Meta(pattern=DEVICE_ID_PATTERN)]
Voltage = Annotated[float, msgspec.Meta(ge=VOLTAGE_MIN_V, le=VOLTAGE_MAX_V)]
Current = Annotated[float, msgspec.Meta(ge=CURRENT_MIN_A, le=CURRENT_MAX_A)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=SEQ_MAX)]
UtcTimestamp = Annotated[datetime, msgspec.Meta(tz=True)]


class DriverReading(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One line from Driver. Unknown fields are rejected: the contract is strict.

    Field order matters for encoding: device_id, ts, seq come first and
    together, because that span of the encoded record is the id's key.
    """

    device_id: DeviceId
    ts: UtcTimestamp
    seq: Seq | None = None
    voltage: Voltage
    current: Current


class OutputRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the gateway delivers: the Event Hubs body, one spool line (for consumers)."""

    reading_id: str
    device_id: str
    ts: datetime
    seq: int | None
    voltage: float
    current: float
    received_at: datetime


# BLAKE2b-512 with no parameters: called through `map` it runs without a Python
# frame or keyword parsing per key; the id keeps the first 16 bytes (128 bits).
id_hasher = hashlib.blake2b
ID_HEX_DIGITS: Final = 32
_encode = msgspec.json.encode


def reading_id_key(device_id: str, ts: datetime, seq: int | None) -> bytes:
    """The exact bytes hashed for a reading id: the record's own canonical JSON
    for its first three fields, `"device_id":"…","ts":"…Z","seq":N|null`."""
    utc = ts.astimezone(UTC)
    return (
        b'"device_id":' + _encode(device_id) + b',"ts":' + _encode(utc) + b',"seq":' + _encode(seq)
    )


def reading_id(device_id: str, ts: datetime, seq: int | None) -> str:
    """Stable id: the same (device_id, instant, seq) always gives the same id.

    The first 16 bytes of BLAKE2b-512 of `reading_id_key`, as 32 hex digits.
    The timestamp is the canonical UTC text of the instant, so "…00Z",
    "…00.000Z" and "…02:00:00+02:00" are the same reading: a re-sent line
    de-duplicates downstream.
    """
    return id_hasher(reading_id_key(device_id, ts, seq)).hexdigest()[:ID_HEX_DIGITS]
