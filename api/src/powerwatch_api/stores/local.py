"""LocalStore: the embedded engine (powerwatch_kusto.LocalKusto) running the same KQL.

LocalKusto is blocking and thread-safe (a DuckDB cursor per calling thread, MVCC
snapshots), so each query runs in a worker thread and the event loop stays free. The
store has its own limiter, smaller than anyio's default pool of 40: a query is CPU-bound
in DuckDB, so more threads than a few per core only add contention and tail latency;
requests beyond it wait on the event loop in order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from operator import itemgetter

import anyio
import anyio.to_thread
from powerwatch_api.queries import StoredQuery
from powerwatch_api.stores.base import (
    ParamValue,
    Row,
    StoreQueryError,
    StoreUnavailableError,
    check_columns,
    check_parameters,
)
from powerwatch_kusto import LocalKusto, QueryResult, load_schema

#: Concurrent engine queries per store: two per core (a query waits on DuckDB's own
#: threads part of the time), at least 4.
QUERY_THREADS = max(4, 2 * (os.cpu_count() or 2))


#: DuckDB threads per query: the API runs many small queries at once, so parallelism comes
#: from concurrent requests rather than from splitting each one.
ENGINE_THREADS = 1


class LocalStore:
    """The default store when no cluster is configured: every call runs the stored KQL."""

    kind = "local"

    def __init__(
        self, database: str = ":memory:", engine: LocalKusto | None = None, kusto_root: str = ""
    ) -> None:
        self._database = database
        self._kusto_root = kusto_root
        self._engine = engine
        #: Only an engine this store opened is closed by it.
        self._owns_engine = engine is None
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def engine(self) -> LocalKusto:
        """The engine, for local ingestion (the local stack, tests, the benchmark)."""
        if self._engine is None:
            raise StoreUnavailableError("LocalStore is not open")
        return self._engine

    async def open(self) -> None:
        self._limiter = anyio.CapacityLimiter(QUERY_THREADS)
        if self._engine is None:
            self._engine = await anyio.to_thread.run_sync(self._open_engine)

    def _open_engine(self) -> LocalKusto:
        # The same .kql scripts the cluster runs: tables, functions, update policies.
        schema = load_schema(self._kusto_root) if self._kusto_root else None
        return LocalKusto(database=self._database, schema=schema, threads=ENGINE_THREADS)

    async def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            engine, self._engine = self._engine, None
            await anyio.to_thread.run_sync(engine.close)

    async def run(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], *, request_id: str
    ) -> list[Row]:
        check_parameters(query, parameters)
        engine = self.engine  # raises when closed
        try:
            result = await anyio.to_thread.run_sync(
                engine.query, query.text, dict(parameters), limiter=self._limiter
            )
        except Exception as error:
            # QueryError (bad KQL, wrong type) is a deployment bug, not the caller's.
            raise StoreQueryError(f"{query.name}: {type(error).__name__}: {error}") from error
        return _rows(query, result)


def _rows(query: StoredQuery, result: QueryResult) -> list[Row]:
    """The query's columns of each row, by position.

    What normalize_rows() does for the Kusto store, without its per-value work: LocalKusto
    already returns datetimes as aware UTC (the one thing normalize_value changes), and
    every row has the result's columns.
    """
    check_columns(query, result.columns)
    pick = itemgetter(*(result.columns.index(c) for c in query.columns))
    names = query.columns
    if len(names) == 1:
        return [{names[0]: pick(row)} for row in result.rows]
    return [dict(zip(names, pick(row), strict=True)) for row in result.rows]
