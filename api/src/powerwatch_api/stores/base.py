"""The one interface both stores implement, and what they may raise."""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from powerwatch_api.queries import StoredQuery

#: A parameter value as the API hands it over: typed, never pre-formatted text.
ParamValue = str | int | datetime | timedelta | None
Row = dict[str, Any]


class StoreError(Exception):
    """The store could not answer; the message is safe to log, not to show."""


class StoreUnavailableError(StoreError):
    """Transient: the store is unreachable, throttled or timed out. Retry later (503)."""


class StoreQueryError(StoreError):
    """Permanent: the store rejected the query (a deployment or schema mismatch)."""


class Store(Protocol):
    """Runs the API's stored-function queries with bound parameters."""

    #: "kusto" or "local", for logs and /readyz.
    kind: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def run(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], *, request_id: str
    ) -> list[Row]:
        """Rows of the query's columns, values normalized by normalize_value()."""
        ...


def check_parameters(query: StoredQuery, parameters: Mapping[str, ParamValue]) -> None:
    """Refuse a call whose parameters differ from the query's declaration.

    A missing or extra name is a bug in the API, caught before any I/O.
    """
    declared = [name for name, _ in query.parameters]
    if sorted(declared) != sorted(parameters):
        raise StoreQueryError(
            f"{query.name}: parameters {sorted(parameters)} do not match declared {declared}"
        )


def normalize_value(value: Any) -> Any:
    """One Python shape per KQL type, whichever store produced it.

    Datetimes become aware UTC (DuckDB returns naive UTC, the Kusto client aware);
    everything else is already comparable.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def check_columns(query: StoredQuery, columns: Container[str]) -> None:
    """A result without one of the query's declared columns is a contract break."""
    missing = [c for c in query.columns if c not in columns]
    if missing:
        raise StoreQueryError(f"{query.name}: result lacks columns {missing}")


def normalize_rows(query: StoredQuery, rows: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Keep exactly the query's columns, normalized; a missing column is a contract break."""
    out: list[Row] = []
    for row in rows:
        check_columns(query, row)
        out.append({column: normalize_value(row[column]) for column in query.columns})
    return out
