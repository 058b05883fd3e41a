"""Gateway records -> RawReadings rows, through the RawReadings_mapping JSON paths.

Like ADX, a value that does not convert to its column's type becomes null (and the
quarantine policy reports it); a record that is not an object rejects the whole batch.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import IngestError
from .model import Mapping as IngestionMapping
from .model import Table

#: Where the Event Hubs enqueued time may also arrive in a local record.
_LOCAL_ENQUEUED = "enqueued_time"


def records_to_rows(
    records: Iterable[Mapping[str, Any]],
    mapping: IngestionMapping,
    table: Table,
    ingestion_time: dt.datetime,
) -> list[tuple[Any, ...]]:
    """One row per record in table column order, plus the record's ordinal last."""
    paths = {e.column: _json_key(e.path) for e in mapping.entries}
    rows = []
    for ordinal, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise IngestError(f"record {ordinal} is {type(record).__name__}, not an object")
        row: list[Any] = []
        for column in table.columns:
            if column.name == "IngestionTime":
                row.append(ingestion_time)
                continue
            key = paths.get(column.name)
            raw = record.get(key) if key else None
            if column.name == "EnqueuedTime" and raw is None:
                raw = record.get(_LOCAL_ENQUEUED)
            row.append(_convert(raw, column.kql_type))
        row.append(ordinal)
        rows.append(tuple(row))
    return rows


def rows_as_json(rows: list[tuple[Any, ...]]) -> str:
    """Rows as a JSON array of arrays of text (null stays null); DuckDB casts them back."""

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, float):
            return repr(value)  # 'nan', 'inf' and full precision survive the cast
        return str(value)

    return json.dumps([[text(v) for v in row] for row in rows])


def _json_key(path: str) -> str:
    if not path.startswith("$."):
        raise IngestError(f"mapping path {path!r} is not a top-level $.field")
    return path[2:]


def _convert(value: Any, kql_type: str) -> Any:
    if value is None:
        return None
    try:
        if kql_type == "string":
            return value if isinstance(value, str) else None
        if kql_type in ("real", "double"):
            if isinstance(value, bool):
                return None
            return float(value)  # "NaN" and NaN stay NaN: quarantine reports them
        if kql_type in ("long", "int"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                return None
            return int(value)
        if kql_type == "datetime":
            return naive_utc(_parse_datetime(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return value


def _parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise TypeError("datetime must be an RFC 3339 string")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def naive_utc(value: Any) -> Any:
    """DuckDB TIMESTAMP columns hold naive UTC: convert aware datetimes, keep the rest."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
