"""/api/v1: critical events, incidents, power series, devices."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from powerwatch_api.controllers.common import PROBLEM_RESPONSES, request_id, utc_now
from powerwatch_api.models import BinSize, DeviceList, EventsPage, IncidentsPage, PowerSeries
from powerwatch_api.services.devices import DevicesService
from powerwatch_api.services.events import EventsQuery, EventsService
from powerwatch_api.services.power import PowerService
from powerwatch_api.validation import DEVICE_ID_PATTERN, MAX_CURSOR_LENGTH

DeviceFilter = Annotated[
    str | None,
    QueryParameter(
        name="device",
        pattern=DEVICE_ID_PATTERN,
        max_length=64,
        description="Only this device (default: all devices).",
    ),
]
# Strings, parsed strictly by the service: a number is not a timestamp.
FromTime = Annotated[
    str | None,
    QueryParameter(
        name="from",
        format="date-time",
        max_length=40,
        description="Window start, ISO-8601 UTC (inclusive). Default: `to` minus 24 h.",
    ),
]
ToTime = Annotated[
    str | None,
    QueryParameter(
        name="to",
        format="date-time",
        max_length=40,
        description="Window end, ISO-8601 UTC (exclusive). Default: now.",
    ),
]
Limit = Annotated[
    int | None,
    QueryParameter(
        name="limit", ge=1, le=1000, description="Rows per page (1..1000, default 100)."
    ),
]


class ReadingsController(Controller):
    path = "/api/v1"
    tags = ["readings"]  # noqa: RUF012 - Litestar's class-level declaration

    @get(
        "/events",
        operation_id="listCriticalEvents",
        summary="Critical power events, newest first, cursor-paginated",
        responses=PROBLEM_RESPONSES,
    )
    async def critical_events(
        self,
        request: Request[Any, Any, Any],
        events_service: NamedDependency[EventsService],
        device: DeviceFilter = None,
        from_: FromTime = None,
        to: ToTime = None,
        limit: Limit = None,
        cursor: Annotated[
            str | None,
            QueryParameter(
                name="cursor",
                max_length=MAX_CURSOR_LENGTH,
                description="next_cursor of the previous page; it carries the filter and window.",
            ),
        ] = None,
    ) -> EventsPage:
        return await events_service.critical_events(
            EventsQuery(device=device, start=from_, end=to, limit=limit, cursor=cursor),
            now=utc_now(),
            request_id=request_id(request),
        )

    @get(
        "/incidents",
        operation_id="listIncidents",
        summary="Consecutive exceedances grouped into incidents, newest first",
        responses=PROBLEM_RESPONSES,
    )
    async def incidents(
        self,
        request: Request[Any, Any, Any],
        events_service: NamedDependency[EventsService],
        device: DeviceFilter = None,
        from_: FromTime = None,
        to: ToTime = None,
        limit: Limit = None,
    ) -> IncidentsPage:
        return await events_service.incidents(
            device, from_, to, limit, now=utc_now(), request_id=request_id(request)
        )

    @get(
        "/devices/{device_id:str}/power",
        operation_id="getPowerSeries",
        summary="Power of one device per time bin (1m, 5m, 1h, 1d)",
        description=(
            "Average, minimum and maximum power and the reading count per bin. Bins are whole "
            "and aligned to the Unix epoch: the window is widened to bin boundaries, and the "
            "response's start/end give the window answered."
        ),
        responses=PROBLEM_RESPONSES,
    )
    async def power_series(
        self,
        request: Request[Any, Any, Any],
        power_service: NamedDependency[PowerService],
        device_id: Annotated[
            str, PathParameter(pattern=DEVICE_ID_PATTERN, max_length=64, description="Device id.")
        ],
        from_: FromTime = None,
        to: ToTime = None,
        bin_size: Annotated[BinSize, QueryParameter(name="bin", description="Bin size.")] = "5m",
    ) -> PowerSeries:
        return await power_service.series(
            device_id, from_, to, bin_size, now=utc_now(), request_id=request_id(request)
        )

    @get(
        "/devices",
        operation_id="listDevices",
        summary="Every known device: last reading time, last power, status",
        responses=PROBLEM_RESPONSES,
    )
    async def devices(
        self, request: Request[Any, Any, Any], devices_service: NamedDependency[DevicesService]
    ) -> DeviceList:
        return await devices_service.devices(request_id=request_id(request))
