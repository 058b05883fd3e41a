"""Response bodies. msgspec Structs: fast to encode, and Litestar documents them in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

DeviceState = Literal["normal", "critical", "silent"]
BinSize = Literal["1m", "5m", "1h", "1d"]


class CriticalEvent(msgspec.Struct, kw_only=True):
    """One reading whose power exceeded its device's threshold."""

    device_id: str
    ts: datetime
    reading_id: str
    voltage: float
    current: float
    power_w: float
    threshold_w: float
    excess_w: float
    seq: int | None


class EventsPage(msgspec.Struct, kw_only=True):
    """Newest first. Pass next_cursor back as ?cursor= for the next page (null = last page)."""

    items: list[CriticalEvent]
    limit: int
    next_cursor: str | None


class Incident(msgspec.Struct, kw_only=True):
    """Consecutive over-threshold readings of one device, grouped."""

    device_id: str
    start: datetime
    end: datetime
    duration_s: float
    peak_power_w: float
    threshold_w: float
    energy_over_wh: float
    readings: int


class IncidentsPage(msgspec.Struct, kw_only=True):
    """Incidents in the window; truncated = more existed than the limit."""

    items: list[Incident]
    limit: int
    truncated: bool


class PowerBin(msgspec.Struct, kw_only=True):
    bin_start: datetime
    avg_power_w: float
    min_power_w: float
    max_power_w: float
    readings: int
    threshold_w: float


class PowerSeries(msgspec.Struct, kw_only=True):
    """Power of one device per bin over [start, end): the asked window widened to whole bins.

    Every bin is complete (read from per-minute aggregates): a window that starts or ends
    inside a bin gets that whole bin, and `start`/`end` say which window was answered.
    """

    device_id: str
    bin: BinSize
    start: datetime
    end: datetime
    points: list[PowerBin]


class Device(msgspec.Struct, kw_only=True):
    device_id: str
    last_reading_at: datetime
    last_power_w: float
    threshold_w: float
    status: DeviceState


class DeviceList(msgspec.Struct, kw_only=True):
    items: list[Device]


class Health(msgspec.Struct, kw_only=True):
    status: Literal["ok"]


class Readiness(msgspec.Struct, kw_only=True):
    status: Literal["ready"]
    store: str
