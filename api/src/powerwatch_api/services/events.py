"""Critical events (keyset-paginated) and incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from powerwatch_api import queries
from powerwatch_api.models import CriticalEvent, EventsPage, Incident, IncidentsPage
from powerwatch_api.problems import invalid
from powerwatch_api.settings import LimitsSettings
from powerwatch_api.stores.base import Store
from powerwatch_api.validation import (
    Cursor,
    check_device_id,
    decode_cursor,
    encode_cursor,
    resolve_window,
)


@dataclass(frozen=True)
class EventsQuery:
    device: str | None
    start: str | None
    end: str | None
    limit: int | None
    cursor: str | None


class EventsService:
    def __init__(self, store: Store, limits: LimitsSettings) -> None:
        self._store = store
        self._limits = limits

    def _limit(self, limit: int | None) -> int:
        value = self._limits.default_limit if limit is None else limit
        if not 1 <= value <= self._limits.max_limit:
            raise invalid("limit", f"must be between 1 and {self._limits.max_limit}")
        return value

    async def critical_events(
        self, q: EventsQuery, *, now: datetime, request_id: str
    ) -> EventsPage:
        limit = self._limit(q.limit)
        after: Cursor | None = None
        device = q.device
        if device:
            check_device_id(device)
        if q.cursor is None:
            window = resolve_window(q.start, q.end, now=now, limits=self._limits)
        else:
            after = decode_cursor(q.cursor)
            # The cursor carries its query; explicit parameters must agree with it.
            if device is not None and device != after.device:
                raise invalid("cursor", "belongs to a different device filter")
            window = resolve_window(after.start, after.end, now=now, limits=self._limits)
            given = resolve_window(
                q.start or window.start, q.end or window.end, now=now, limits=self._limits
            )
            if given != window:
                raise invalid("cursor", "belongs to a different time window")
            device = after.device
        # One extra row says whether another page exists, without a count query.
        rows = await self._store.run(
            queries.CRITICAL_EVENTS,
            {
                "fromTime": window.start,
                "toTime": window.end,
                "deviceId": device or "",
                "maxRows": limit + 1,
                "afterTime": after.after_time if after else None,
                "afterReadingId": after.after_reading_id if after else "",
            },
            request_id=request_id,
        )
        items = [
            CriticalEvent(
                device_id=row["DeviceId"],
                ts=row["Timestamp"],
                reading_id=row["ReadingId"],
                voltage=row["Voltage"],
                current=row["Current"],
                power_w=row["PowerW"],
                threshold_w=row["ThresholdW"],
                excess_w=row["ExcessW"],
                seq=row["Seq"],
            )
            for row in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor(
                Cursor(
                    device=device or "",
                    start=window.start,
                    end=window.end,
                    after_time=last.ts,
                    after_reading_id=last.reading_id,
                )
            )
        return EventsPage(items=items, limit=limit, next_cursor=next_cursor)

    async def incidents(
        self,
        device: str | None,
        start: str | None,
        end: str | None,
        limit: int | None,
        *,
        now: datetime,
        request_id: str,
    ) -> IncidentsPage:
        capped = self._limit(limit)
        if device:
            check_device_id(device)
        window = resolve_window(start, end, now=now, limits=self._limits)
        rows = await self._store.run(
            queries.POWER_INCIDENTS,
            {
                "fromTime": window.start,
                "toTime": window.end,
                "deviceId": device or "",
                "maxRows": capped + 1,
            },
            request_id=request_id,
        )
        items = [
            Incident(
                device_id=row["DeviceId"],
                start=row["StartTime"],
                end=row["EndTime"],
                duration_s=row["Duration"].total_seconds(),
                peak_power_w=row["PeakPowerW"],
                threshold_w=row["ThresholdW"],
                energy_over_wh=row["EnergyOverWh"],
                readings=row["Readings"],
            )
            for row in rows[:capped]
        ]
        return IncidentsPage(items=items, limit=capped, truncated=len(rows) > capped)
