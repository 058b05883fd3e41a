"""LocalStore: the embedded engine (powerwatch_kusto.LocalKusto) running the same KQL.

LocalKusto is blocking and thread-safe (a DuckDB cursor per query, MVCC snapshots),
so each query runs in a worker thread and the event loop stays free. The store has its
own limiter, smaller than anyio's default pool of 40: a query is CPU-bound in DuckDB
(which parallelises internally), so more threads than a few per core only add
contention and tail latency; requests beyond it wait on the event loop in order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from operator import itemgetter

import anyio
import anyio.to_thread
from powerwatch_api.queries import StoredQuery
from powerwatch_api.settings import StoreSettings
from powerwatch_api.stores.base import (
    ParamValue,
    Row,
    StoreQueryError,
    StoreUnavailableError,
    check_columns,
    check_parameters,
)
from powerwatch_api.stores.extents import SPLITS
from powerwatch_api.stores.result_cache import Clock, ResultCache, utc_now
from powerwatch_kusto import LocalKusto, QueryResult, load_schema

#: Concurrent engine queries per store: two per core (a query waits on DuckDB's own
#: threads part of the time), at least 4.
QUERY_THREADS = max(4, 2 * (os.cpu_count() or 2))


#: DuckDB threads per query: the API runs many small queries at once, so parallelism comes
#: from concurrent requests (bench/bench_api.py: 1 thread beat the default on 2 cores).
ENGINE_THREADS = 1

#: The interpreter's GIL switch interval while a LocalStore is open (CPython's default is
#: 5 ms). A query runs in DuckDB without the GIL; to hand its rows back, its worker thread
#: needs the GIL, which the event-loop thread holds while it serves other requests, and a
#: waiting thread only gets it at the next switch interval. At 5 ms that wait is most of a
#: request's latency under load: bench/bench_api.py at 200 req/s, events p99 161 -> 28 ms
#: with 0.5 ms and lower again at 0.2 ms (docs/benchmarks.md).
GIL_SWITCH_INTERVAL_S = 0.0002


#: Rows the result cache keeps by default (settings: POWERWATCH_API_LOCAL_CACHE_ROWS).
DEFAULT_CACHE_ROWS = StoreSettings.local_cache_rows


class LocalStore:
    """The default store when no cluster is configured.

    With *cache_rows* > 0, closed days of the splittable queries are answered from a
    ResultCache (stores/result_cache.py) that the engine's commits keep exact.
    """

    kind = "local"

    def __init__(
        self,
        database: str = ":memory:",
        engine: LocalKusto | None = None,
        kusto_root: str = "",
        *,
        cache_rows: int = DEFAULT_CACHE_ROWS,
        clock: Clock = utc_now,
    ) -> None:
        self._database = database
        self._kusto_root = kusto_root
        self._engine = engine
        #: Only an engine this store opened is closed by it.
        self._owns_engine = engine is None
        self._limiter: anyio.CapacityLimiter | None = None
        self._switch_interval: float | None = None
        self._cache_rows = cache_rows
        self._clock = clock
        self._cache: ResultCache | None = None

    @property
    def cache(self) -> ResultCache | None:
        """The result cache while open (None when disabled), for its stats."""
        return self._cache

    @property
    def engine(self) -> LocalKusto:
        """The engine, for local ingestion (the local stack, tests, the benchmark)."""
        if self._engine is None:
            raise StoreUnavailableError("LocalStore is not open")
        return self._engine

    async def open(self) -> None:
        self._limiter = anyio.CapacityLimiter(QUERY_THREADS)
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, GIL_SWITCH_INTERVAL_S))
        if self._engine is None:
            self._engine = await anyio.to_thread.run_sync(self._open_engine)
        if self._cache_rows > 0 and self._cache is None:
            # Empty at open: what was written before is read once, then kept.
            self._cache = ResultCache(self._cache_rows, self._clock)
            self._engine.add_commit_listener(self._cache.invalidate)

    def _open_engine(self) -> LocalKusto:
        # The same .kql scripts the cluster runs: tables, functions, update policies.
        schema = load_schema(self._kusto_root) if self._kusto_root else None
        return LocalKusto(database=self._database, schema=schema, threads=ENGINE_THREADS)

    async def close(self) -> None:
        if self._cache is not None and self._engine is not None:
            self._engine.remove_commit_listener(self._cache.invalidate)
            self._cache = None
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
        if self._engine is not None and self._owns_engine:
            engine, self._engine = self._engine, None
            await anyio.to_thread.run_sync(engine.close)

    async def run(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], *, request_id: str
    ) -> list[Row]:
        check_parameters(query, parameters)
        engine = self.engine  # raises when closed

        async def fetch(values: Mapping[str, ParamValue]) -> list[Row]:
            try:
                result = await anyio.to_thread.run_sync(
                    engine.query, query.text, dict(values), limiter=self._limiter
                )
            except Exception as error:
                # QueryError (bad KQL, wrong type) is a deployment bug, not the caller's.
                raise StoreQueryError(f"{query.name}: {type(error).__name__}: {error}") from error
            return _rows(query, result)

        split = SPLITS.get(query.name)
        if self._cache is not None and split is not None and split.splits(parameters):
            # Rows cut from a kept day are shared between calls: callers only read them.
            return await self._cache.answer(query, split, parameters, fetch)
        return await fetch(parameters)


def _rows(query: StoredQuery, result: QueryResult) -> list[Row]:
    """The query's columns of each row, by position.

    What normalize_rows() does for the Kusto store, without its per-value work: LocalKusto
    already returns datetimes as aware UTC (the one thing normalize_value changes), and
    every row has the result's columns. On a 61-bin power series the per-value path was
    ~0.5 ms of event-loop time per request.
    """
    check_columns(query, result.columns)
    pick = itemgetter(*(result.columns.index(c) for c in query.columns))
    names = query.columns
    if len(names) == 1:
        return [{names[0]: pick(row)} for row in result.rows]
    return [dict(zip(names, pick(row), strict=True)) for row in result.rows]
