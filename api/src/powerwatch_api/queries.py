"""Every KQL text the API sends, as constants.

Each query declares its parameters with ``declare query_parameters`` and calls one
stored function from kusto/functions; values travel beside the text
(ClientRequestProperties.set_parameter on Azure Data Explorer, bound values in the
local engine), so no caller input is ever part of a query string. The texts are
literal on purpose: kusto/tests imports ALL_QUERIES and checks each one with the
Microsoft KQL analyzer against the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KqlType = Literal["datetime", "string", "long", "timespan"]


@dataclass(frozen=True)
class StoredQuery:
    """A query text plus the parameters it declares, in declaration order."""

    name: str
    text: str
    parameters: tuple[tuple[str, KqlType], ...]
    #: The columns the query returns, in order.
    columns: tuple[str, ...]


CRITICAL_EVENTS = StoredQuery(
    name="CriticalEvents",
    text="""declare query_parameters(fromTime:datetime, toTime:datetime, deviceId:string,
    maxRows:long, afterTime:datetime, afterReadingId:string);
CriticalEvents(fromTime, toTime, deviceId, maxRows, afterTime, afterReadingId)
| project DeviceId, Timestamp, ReadingId, Voltage, Current, PowerW, ThresholdW, ExcessW, Seq""",
    parameters=(
        ("fromTime", "datetime"),
        ("toTime", "datetime"),
        ("deviceId", "string"),
        ("maxRows", "long"),
        ("afterTime", "datetime"),
        ("afterReadingId", "string"),
    ),
    columns=(
        "DeviceId",
        "Timestamp",
        "ReadingId",
        "Voltage",
        "Current",
        "PowerW",
        "ThresholdW",
        "ExcessW",
        "Seq",
    ),
)

POWER_INCIDENTS = StoredQuery(
    name="PowerIncidents",
    text="""declare query_parameters(fromTime:datetime, toTime:datetime, deviceId:string,
    maxRows:long);
PowerIncidents(fromTime, toTime, deviceId, maxRows)
| project DeviceId, StartTime, EndTime, Duration, PeakPowerW, ThresholdW, EnergyOverWh, Readings""",
    parameters=(
        ("fromTime", "datetime"),
        ("toTime", "datetime"),
        ("deviceId", "string"),
        ("maxRows", "long"),
    ),
    columns=(
        "DeviceId",
        "StartTime",
        "EndTime",
        "Duration",
        "PeakPowerW",
        "ThresholdW",
        "EnergyOverWh",
        "Readings",
    ),
)

POWER_SERIES = StoredQuery(
    name="PowerSeriesByMinute",
    text="""declare query_parameters(deviceId:string, fromTime:datetime, toTime:datetime,
    binSize:timespan);
PowerSeriesByMinute(deviceId, fromTime, toTime, binSize)
| project BinStart, AvgPowerW, MinPowerW, MaxPowerW, Readings, ThresholdW""",
    parameters=(
        ("deviceId", "string"),
        ("fromTime", "datetime"),
        ("toTime", "datetime"),
        ("binSize", "timespan"),
    ),
    columns=("BinStart", "AvgPowerW", "MinPowerW", "MaxPowerW", "Readings", "ThresholdW"),
)

DEVICE_STATUS = StoredQuery(
    name="DeviceStatus",
    text="""declare query_parameters(silentAfter:timespan);
DeviceStatus(silentAfter)
| project DeviceId, LastTimestamp, LastPowerW, ThresholdW, Status""",
    parameters=(("silentAfter", "timespan"),),
    columns=("DeviceId", "LastTimestamp", "LastPowerW", "ThresholdW", "Status"),
)

#: Readiness: the cheapest query that proves the store answers.
PING = StoredQuery(name="Ping", text="print Ready = 1", parameters=(), columns=("Ready",))

ALL_QUERIES: tuple[StoredQuery, ...] = (
    CRITICAL_EVENTS,
    POWER_INCIDENTS,
    POWER_SERIES,
    DEVICE_STATUS,
    PING,
)
