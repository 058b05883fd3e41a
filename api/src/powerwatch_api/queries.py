"""Every KQL text the API sends, built from one list per call.

Each call names one stored function from kusto/functions, the parameters it declares
(``declare query_parameters``) and the columns the API reads, in order; its text is made
from exactly that, so the column list exists once here. Values travel beside the text
(ClientRequestProperties.set_parameter on Azure Data Explorer, bound values in the local
engine), so no caller input is ever part of a query string. tests/contracts holds these
lists to the .kql functions (Microsoft's KQL analyzer and the local engine) and to the
response models.
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


def call(
    function: str, parameters: tuple[tuple[str, KqlType], ...], columns: tuple[str, ...]
) -> StoredQuery:
    """`declare query_parameters(...); Function(...) | project <columns>`."""
    declared = ", ".join(f"{name}:{kql_type}" for name, kql_type in parameters)
    arguments = ", ".join(name for name, _ in parameters)
    text = (
        f"declare query_parameters({declared});\n{function}({arguments})\n"
        f"| project {', '.join(columns)}"
    )
    return StoredQuery(function, text, parameters, columns)


CRITICAL_EVENTS = call(
    "CriticalEvents",
    (
        ("fromTime", "datetime"),
        ("toTime", "datetime"),
        ("deviceId", "string"),
        ("maxRows", "long"),
        ("afterTime", "datetime"),
        ("afterReadingId", "string"),
    ),
    (
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

POWER_INCIDENTS = call(
    "PowerIncidents",
    (
        ("fromTime", "datetime"),
        ("toTime", "datetime"),
        ("deviceId", "string"),
        ("maxRows", "long"),
    ),
    (
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

POWER_SERIES = call(
    "PowerSeriesByMinute",
    (
        ("deviceId", "string"),
        ("fromTime", "datetime"),
        ("toTime", "datetime"),
        ("binSize", "timespan"),
    ),
    ("BinStart", "AvgPowerW", "MinPowerW", "MaxPowerW", "Readings", "ThresholdW"),
)

DEVICE_STATUS = call(
    "DeviceStatus",
    (("silentAfter", "timespan"),),
    ("DeviceId", "LastTimestamp", "LastPowerW", "ThresholdW", "Status"),
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
