"""LocalStore: the embedded engine (powerwatch_kusto.LocalKusto) running the same KQL.

LocalKusto is blocking and thread-safe (a DuckDB cursor per query, MVCC snapshots),
so each query runs in a worker thread and the event loop stays free.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio.to_thread
from powerwatch_api.queries import StoredQuery
from powerwatch_api.stores.base import (
    ParamValue,
    Row,
    StoreQueryError,
    StoreUnavailableError,
    check_parameters,
    normalize_rows,
)
from powerwatch_kusto import LocalKusto, load_schema


class LocalStore:
    """The default store when no cluster is configured."""

    kind = "local"

    def __init__(
        self, database: str = ":memory:", engine: LocalKusto | None = None, kusto_root: str = ""
    ) -> None:
        self._database = database
        self._kusto_root = kusto_root
        self._engine = engine
        #: Only an engine this store opened is closed by it.
        self._owns_engine = engine is None

    @property
    def engine(self) -> LocalKusto:
        """The engine, for local ingestion (the local stack, tests, the benchmark)."""
        if self._engine is None:
            raise StoreUnavailableError("LocalStore is not open")
        return self._engine

    async def open(self) -> None:
        if self._engine is None:
            self._engine = await anyio.to_thread.run_sync(self._open_engine)

    def _open_engine(self) -> LocalKusto:
        # The same .kql scripts the cluster runs: tables, functions, update policies.
        schema = load_schema(self._kusto_root) if self._kusto_root else None
        return LocalKusto(database=self._database, schema=schema)

    async def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            engine, self._engine = self._engine, None
            await anyio.to_thread.run_sync(engine.close)

    async def run(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], *, request_id: str
    ) -> list[Row]:
        check_parameters(query, parameters)
        engine = self.engine
        values = dict(parameters)
        try:
            result = await anyio.to_thread.run_sync(engine.query, query.text, values)
        except Exception as error:
            # QueryError (bad KQL, wrong type) is a deployment bug, not the caller's.
            raise StoreQueryError(f"{query.name}: {type(error).__name__}: {error}") from error
        return normalize_rows(query, result.as_dicts())
