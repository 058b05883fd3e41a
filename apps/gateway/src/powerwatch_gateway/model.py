"""The Driver line and the gateway output record, as msgspec Structs.

Ranges live in the types (msgspec checks them in C while decoding); the few
checks that need the clock are in `validation`. docs/protocol.md is the prose
version of this module: change both together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

import msgspec

#: The device-id contract (docs/protocol.md), character for character the API's too
#: (tests/contracts/test_device_id.py). `$(?!\n)` ends the string in Python's `re`
#: (msgspec tests it with `re.search`, where a bare `$` also matches before a final "\n")
#: and in ECMAScript (OpenAPI validators), where `\Z` does not exist.
DEVICE_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$(?!\n)"
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

    Field order matters for encoding: `validation` builds output records from
    the encoded lines and relies on `device_id` being the first field.
    """

    device_id: DeviceId
    ts: UtcTimestamp
    seq: Seq | None = None
    voltage: Voltage
    current: Current


class ChunkReading(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, gc=False):
    """`DriverReading` for the chunk fast path in `validation`: same fields, same
    order, same ranges, so it decodes and encodes exactly like it; but the
    device id pattern is not in the type. A regex call per reading inside the
    decoder costs more than the rest of the decode, so `validation` checks each
    *distinct* device id once (and remembers the good ones). `gc=False`: its
    fields (str, datetime, numbers) cannot form reference cycles.
    """

    device_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
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


# Separates the parts of a reading id: never in a timestamp or a sequence number,
# and within the id characters consumers accept (`[A-Za-z0-9_.:-]`).
ID_SEPARATOR: Final = "_"
_encode = msgspec.json.encode


def reading_id(device_id: str, ts: datetime, seq: int | None) -> str:
    """Stable id: the reading's natural key as text, `<device_id>_<ts>_<seq>`.

    `ts` is the canonical UTC text of the instant exactly as in the output
    record (`2026-11-25T18:00:00Z`, `…00.123000Z`), so "…00Z", "…00.000Z" and
    "…20:00:00+02:00" are the same reading; `seq` is its decimal digits, or
    nothing when absent. Unique by construction: read from the right, `seq` is
    the digits after the last `_` and `ts` the text before it up to the
    previous `_` (neither contains `_`); the rest is the device id.
    """
    utc = _encode(ts.astimezone(UTC)).decode()[1:-1]
    return f"{device_id}{ID_SEPARATOR}{utc}{ID_SEPARATOR}{'' if seq is None else seq}"
