"""Rules on parameters beyond their types: UTC times, window order and size, cursors."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from powerwatch_api.problems import FieldError, InvalidParametersError, invalid
from powerwatch_api.settings import LimitsSettings

#: The device-id contract (docs/protocol.md), character for character the gateway's too
#: (tests/contracts/test_device_id.py); also in the OpenAPI document. `$(?!\n)` is "end of
#: string" in Python's `re` and in ECMAScript alike (`\Z` is Python-only).
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$(?!\n)"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN, re.ASCII)
#: Reading ids come from the gateway (a stable hash); the cursor only ever holds one.
_READING_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$", re.ASCII)
MAX_CURSOR_LENGTH = 512

BIN_SIZES: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}


def check_device_id(value: str, field: str = "device") -> str:
    if not _DEVICE_ID.fullmatch(value):
        raise invalid(field, f"must match {DEVICE_ID_PATTERN}")
    return value


#: RFC 3339 date-time (the OpenAPI "date-time" format); UTC is checked after parsing.
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$",
    re.ASCII,  # \d is [0-9] only; fullmatch below: no trailing newline slips past $
)


def parse_time(text: str, field: str) -> datetime:
    """A strict ISO-8601 / RFC 3339 UTC timestamp, e.g. ``2026-11-25T18:00:00Z``."""
    match = _RFC3339.fullmatch(text)
    if not match:
        raise invalid(field, "must be an ISO-8601 UTC timestamp, e.g. 2026-11-25T18:00:00Z")
    date, clock, fraction, offset = match.groups()
    micros = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if offset in ("Z", "z") else offset or ""
    try:
        value = datetime.fromisoformat(f"{date}T{clock}.{micros}{zone}")
    except ValueError as exc:
        raise invalid(field, "is not a valid calendar date and time") from exc
    return as_utc(value, field)


#: Readings exist in this range; outside it window arithmetic would overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def as_utc(value: datetime, field: str) -> datetime:
    """Accept only explicit UTC (``Z`` or ``+00:00``) within [1970, 2200)."""
    offset = value.utcoffset()
    if offset is None:
        raise invalid(
            field, "must be ISO-8601 with an explicit UTC offset, e.g. 2026-11-25T18:00:00Z"
        )
    if offset != timedelta(0):
        raise invalid(field, "must be in UTC (offset Z or +00:00)")
    if not EARLIEST <= value < LATEST:
        raise invalid(field, "must be between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime


def resolve_window(
    start: str | datetime | None,
    end: str | datetime | None,
    *,
    now: datetime,
    limits: LimitsSettings,
) -> TimeWindow:
    """[start, end) in UTC; missing ends default to the last default_window before now."""
    errors: list[FieldError] = []
    utc_start = utc_end = None
    for field, value in (("from", start), ("to", end)):
        if value is None:
            continue
        try:
            converted = parse_time(value, field) if isinstance(value, str) else as_utc(value, field)
        except InvalidParametersError as exc:
            errors.extend(exc.errors)
            continue
        if field == "from":
            utc_start = converted
        else:
            utc_end = converted
    if errors:
        raise InvalidParametersError(errors)
    window_end = utc_end or now.astimezone(UTC)
    window_start = utc_start or window_end - limits.default_window
    if window_start >= window_end:
        raise invalid("from", "must be earlier than to")
    if window_end - window_start > limits.max_window:
        raise invalid("to", f"window exceeds the maximum of {limits.max_window.days} days")
    return TimeWindow(window_start, window_end)


def widen_to_bins(window: TimeWindow, span: timedelta) -> TimeWindow:
    """The smallest window of whole bins (aligned to the Unix epoch) containing `window`.

    Power series are read from per-minute aggregates, so a bin is always complete: a window
    that starts or ends inside a bin gets that whole bin rather than a partial one.
    """
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    start = epoch + (window.start - epoch) // span * span
    end = epoch + -((epoch - window.end) // span) * span  # ceiling
    return TimeWindow(start, end)


@dataclass(frozen=True)
class Cursor:
    """Where the previous page stopped, and the query it belongs to."""

    device: str
    start: datetime
    end: datetime
    after_time: datetime
    after_reading_id: str


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def encode_cursor(cursor: Cursor) -> str:
    payload = {
        "v": 1,
        "d": cursor.device,
        "f": _iso(cursor.start),
        "u": _iso(cursor.end),
        "t": _iso(cursor.after_time),
        "r": cursor.after_reading_id,
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str) -> Cursor:
    """Parse a cursor this API issued; anything else is a 400, never a crash."""
    message = "is not a cursor issued by this API (use next_cursor from the previous page)"
    if len(text) > MAX_CURSOR_LENGTH:
        raise invalid("cursor", message)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, dict) or payload.get("v") != 1:
            raise ValueError("version")
        device, reading_id = payload["d"], payload["r"]
        if not isinstance(device, str) or not isinstance(reading_id, str):
            raise ValueError("types")
        cursor = Cursor(
            device=device,
            start=datetime.fromisoformat(payload["f"]),
            end=datetime.fromisoformat(payload["u"]),
            after_time=datetime.fromisoformat(payload["t"]),
            after_reading_id=reading_id,
        )
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid("cursor", message) from exc
    if device:
        check_device_id(device, "cursor")
    if not _READING_ID.fullmatch(reading_id):
        raise invalid("cursor", message)
    for value in (cursor.start, cursor.end, cursor.after_time):
        if value.utcoffset() != timedelta(0):
            raise invalid("cursor", message)
    return cursor
