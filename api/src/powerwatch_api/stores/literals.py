"""Parameter values as the KQL literal text Azure Data Explorer parses by declared type.

ClientRequestProperties carries every parameter value as a string; the service
parses it with the rules of the type in ``declare query_parameters``. A string
parameter is taken verbatim (it is a value, never query text), numbers in decimal,
datetimes and timespans in their literal forms.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from powerwatch_api.queries import KqlType
from powerwatch_api.stores.base import ParamValue, StoreQueryError


def kql_datetime(value: datetime) -> str:
    """``datetime(2026-11-25T18:00:00.0000000Z)``: UTC, 7 fractional digits (100 ns ticks)."""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return f"datetime({utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0Z)"


def kql_timespan(value: timedelta) -> str:
    """``timespan(d.hh:mm:ss.fffffff)``; negative spans are never sent by the API."""
    if value < timedelta(0):
        raise StoreQueryError("negative timespan parameter")
    minutes, seconds = divmod(value.seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return (
        f"timespan({value.days}.{hours:02d}:{minutes:02d}:{seconds:02d}.{value.microseconds:06d}0)"
    )


def kql_literal(kind: KqlType, value: ParamValue) -> str:
    """The text for ClientRequestProperties.set_parameter, checked against the type."""
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "long" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind == "datetime":
        if value is None:
            return "datetime(null)"
        if isinstance(value, datetime):
            return kql_datetime(value)
    if kind == "timespan" and isinstance(value, timedelta):
        return kql_timespan(value)
    raise StoreQueryError(f"a {type(value).__name__} cannot be sent as a {kind} parameter")
