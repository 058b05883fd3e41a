"""LocalKusto: the same tables, functions and update policies, run on DuckDB + duckdb-kql.

What it reproduces of ADX:
* tables from the `.create-merge table` commands, stored functions from the same `.kql` text;
* ingestion through `RawReadings_mapping` (JSON paths of the gateway record);
* update policies with their IsTransactional meaning: each batch's new rows go into
  RawReadings and every transactional policy's Query (read from the policy JSON) runs over
  exactly those rows, in ONE DuckDB transaction — all of it is stored or none of it; then
  each non-transactional policy runs over the same rows in a transaction of its own, and
  its failure loses only its own target's rows (IngestResult.failures), as ADX does;
* de-duplication by ReadingId (ADX gets that from the de-duplicating materialized views;
  here duplicates are skipped at ingest). A view of the shape `T | summarize take_any(*) by
  K1, K2...` that a stored function reads is therefore a plain DuckDB view of T here, with
  a unique index on T(K1, K2...) so that the premise is checked, not assumed: a batch that
  would store a second row with the same key fails whole (see `_views.py`);
* "last record per entity" views, `T | <filters> | summarize arg_max(C, *) by K`: a plain
  DuckDB view holding, per K, one whole row with the greatest C among the filtered rows
  of T (see `_views.py`).

The update-policy queries reference `RawReadings` by name. During ingest they run on a
dedicated cursor whose `search_path` puts the `batch` schema first, where the table of the
same name holds only the batch's new rows — the meaning "the newly ingested data" has
inside an ADX update policy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import duckdb_kql
from duckdb_kql import KqlError
from duckdb_kql.params import bind
from duckdb_kql.stored_functions import ResolvedFunctions, parse_functions
from duckdb_kql.translate import CLOCK_SLOT, TranslationResult

from . import _engine_extensions
from ._readers import Readers
from ._views import local_views
from .errors import IngestError, QueryError
from .loader import KustoSchema, declared_parameters, load_schema
from .model import Table
from .records import naive_utc, records_to_rows, rows_as_json

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "datetime": "TIMESTAMP",
    "real": "DOUBLE",
    "double": "DOUBLE",
    "long": "BIGINT",
    "int": "INTEGER",
    "bool": "BOOLEAN",
    "timespan": "INTERVAL",
    "dynamic": "JSON",
    "guid": "UUID",
}
_STAGING = "batch"
_SOURCE_TABLE = "RawReadings"
_ORDINAL = "__ordinal"
_CACHE_SIZE = 256
_PINNED = dt.datetime(2000, 1, 1)

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class QueryResult:
    """Rows of one query. Datetimes are timezone-aware UTC; timespans are timedelta."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class CacheStats:
    """Translation cache counters (see LocalKusto.translate)."""

    hits: int
    misses: int
    size: int


@dataclass(frozen=True)
class _Compiled:
    """A query text compiled once: its translation, the SQL parsed, what binding needs.

    `statement` is the SQL's parse tree (DuckDB's public `extract_statements`), or the SQL
    text when it is not exactly one statement. It is syntax only: every execution binds
    it against the current catalog and reads the current snapshot, and DuckDB executes a
    copy of it each time, so one compiled text serves every reader cursor and thread.
    """

    translation: TranslationResult
    sql: str
    statement: duckdb.Statement | str
    slots: dict[str, str]
    nullable: frozenset[str]


@dataclass(frozen=True)
class IngestResult:
    """What one ingest() stored: new raw rows, skipped duplicates, rows per policy target."""

    raw: int
    duplicates: int
    targets: dict[str, int]
    #: Non-transactional policies that failed on this batch: target table -> error. The
    #: batch and every other target are stored (ADX lists these in `.show ingestion
    #: failures`).
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return self.targets.get("PowerEvents", 0)

    @property
    def quarantined(self) -> int:
        return self.targets.get("QuarantinedReadings", 0)


class LocalKusto:
    """The embedded engine. Thread-safe: see kusto/README.md (Concurrency)."""

    def __init__(
        self,
        database: str | Path = ":memory:",
        schema: KustoSchema | None = None,
        now: Clock | None = None,
        threads: int | None = None,
    ) -> None:
        _engine_extensions.apply()
        self.schema = schema if schema is not None else load_schema()
        self._now = now
        self._views = local_views(self.schema)
        self._columns = {
            **self.schema.table_columns(),
            **{name: view.columns(self.schema) for name, view in self._views.items()},
        }
        self._definitions, policies = _compiled(self.schema)
        self._connection = duckdb_kql.connect(str(database))
        self._database = str(database)
        if threads is not None:
            # DuckDB threads per query (whole database). A server running many small
            # queries at once gets its parallelism from the requests: one thread each
            # skips the per-query scheduling that costs more than it saves here.
            self._connection.execute("SET threads = ?", [int(threads)])
        self._ingest_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._translations: OrderedDict[str, _Compiled] = OrderedDict()
        self._hits = 0
        self._misses = 0
        # Queries run on one reader cursor per calling thread (_readers.py).
        self._readers = Readers(self._connection)
        try:
            self._create_tables()
        except BaseException:
            self._connection.close()
            raise
        self._source = self.schema.tables[_SOURCE_TABLE]
        self._mapping = next(m for m in self.schema.mappings.values() if m.table == _SOURCE_TABLE)
        self._policies = list(policies)
        self._writer = self._connection.cursor()
        self._writer.execute("SET TimeZone = 'UTC'")
        self._writer.execute(f"SET search_path = '{_STAGING},main'")

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        with self._ingest_lock:
            self._readers.close()
            self._writer.close()
            self._connection.close()

    def __enter__(self) -> LocalKusto:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ---------------------------------------------------------------------

    def query(self, kql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        """Run KQL (e.g. `declare query_parameters(...); Fn(...)`) with bound values."""
        compiled, bound = self._bound(kql, parameters)
        try:
            cursor = self._readers.current().execute(compiled.statement, bound)
            description = cursor.description or ()
            columns = tuple(d[0] for d in description)
            rows = _with_utc(cursor.fetchall(), description)
        except duckdb.Error as error:
            self._readers.drop_current()  # start the next query on a clean cursor
            raise QueryError(f"query failed on the local engine: {error}") from error
        return QueryResult(columns, rows)

    def reader_count(self) -> int:
        """Reader cursors open now, one per thread that queried (tests, diagnostics)."""
        return self._readers.open_count()

    def translate(
        self, kql: str, parameters: Mapping[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The DuckDB SQL and bound values for a KQL query (what query() executes).

        The SQL of a text does not depend on the values (they are placeholders, each cast
        to the type the text declares), so a text is compiled once (translated and parsed)
        and kept in an LRU keyed by the text; each call only coerces and binds the values.
        """
        compiled, bound = self._bound(kql, parameters)
        return compiled.sql, bound

    def _bound(
        self, kql: str, parameters: Mapping[str, Any] | None
    ) -> tuple[_Compiled, dict[str, Any]]:
        compiled = self._translated(kql)
        translated = compiled.translation
        values = {k: naive_utc(v) for k, v in (parameters or {}).items()}
        try:
            bound, unbound = bind(list(translated.declarations), values)
        except KqlError as error:
            raise QueryError(f"bad parameters: {error}") from error
        # duckdb-kql reads a declared null default (`x:datetime = datetime(null)`) as "no
        # default"; Kusto binds null. Do what Kusto does.
        nullable = compiled.nullable
        slots = compiled.slots
        missing = [name for name in unbound if name not in nullable]
        if missing:
            raise QueryError(f"no value for declared parameter(s): {', '.join(missing)}")
        bound.update({slots[name]: None for name in unbound})
        bound = {slot: value for slot, value in bound.items() if slot in translated.slots}
        if CLOCK_SLOT in translated.parameters and self._now is not None:
            bound[CLOCK_SLOT] = naive_utc(self._now())
        return compiled, bound

    def cache_stats(self) -> CacheStats:
        """Hits, misses and size of the translation cache (for tests and diagnostics)."""
        with self._cache_lock:
            return CacheStats(self._hits, self._misses, len(self._translations))

    def _translated(self, kql: str) -> _Compiled:
        with self._cache_lock:
            hit = self._translations.get(kql)
            if hit is not None:
                self._translations.move_to_end(kql)
                self._hits += 1
                return hit
            self._misses += 1
        try:
            translated = duckdb_kql.to_sql(
                kql,
                schema=self._columns,
                functions=self._definitions,
                # Any pinned moment makes now() a bound placeholder, filled per call.
                query_now=_PINNED if self._now is not None else None,
                allow_write=False,
            )
            sql = str(translated)
            statement = self._readers.current().parse(sql)
        except KqlError as error:
            raise QueryError(f"cannot run this KQL locally: {error}") from error
        except duckdb.Error as error:
            raise QueryError(f"the local engine cannot parse this KQL's SQL: {error}") from error
        compiled = _Compiled(
            translation=translated,
            sql=sql,
            statement=statement,
            slots={d.name: d.slot for d in translated.declarations},
            nullable=frozenset(p.name for p in declared_parameters(kql) if p.default is not None),
        )
        with self._cache_lock:
            self._translations[kql] = compiled
            self._translations.move_to_end(kql)
            while len(self._translations) > _CACHE_SIZE:
                self._translations.popitem(last=False)
        return compiled

    # -- ingestion -------------------------------------------------------------------

    def ingest(self, records: Iterable[Mapping[str, Any]]) -> IngestResult:
        """Store one batch of gateway records and run the update policies.

        The raw rows and the transactional policies' targets are stored atomically; each
        non-transactional policy then runs alone, and its failure is reported in
        IngestResult.failures instead of undoing the batch (update-policy, Transactional
        settings: "data is ingested only to the source table and not to the target table.
        In this scenario, ingestion operation is successful").
        """
        rows = records_to_rows(records, self._mapping, self._source, self._stamp())
        with self._ingest_lock:
            cursor = self._writer
            try:
                stored, duplicates, targets = self._in_transaction(
                    cursor, lambda: self._ingest_rows(cursor, rows)
                )
            except (duckdb.Error, KqlError) as error:
                # The rollback undid the batch's staging rows too.
                raise IngestError(
                    f"batch of {len(rows)} rejected, nothing stored: {error}"
                ) from error
            failures: dict[str, str] = {}
            for policy in self._policies:
                if policy.transactional:
                    continue
                try:
                    added = self._in_transaction(
                        cursor, functools.partial(_run_policy, cursor, policy)
                    )
                except (duckdb.Error, KqlError) as error:
                    failures[policy.table] = str(error)
                    continue
                targets[policy.table] = targets.get(policy.table, 0) + added
            self._clear_staging(cursor)
        return IngestResult(raw=stored, duplicates=duplicates, targets=targets, failures=failures)

    @staticmethod
    def _in_transaction(cursor: duckdb.DuckDBPyConnection, work: Callable[[], Any]) -> Any:
        try:
            cursor.execute("BEGIN TRANSACTION")
            result = work()
            cursor.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                cursor.execute("ROLLBACK")
            raise
        return result

    @staticmethod
    def _clear_staging(cursor: duckdb.DuckDBPyConnection) -> None:
        """Empty the batch tables (the non-transactional policies read them after COMMIT)."""
        for table in (f'"{_STAGING}"."{_SOURCE_TABLE}"', f'"{_STAGING}"."incoming"'):
            with contextlib.suppress(duckdb.Error):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608  # nosec B608 - our identifiers

    def _ingest_rows(
        self, cursor: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]
    ) -> tuple[int, int, dict[str, int]]:
        """New raw rows + the transactional policies, inside the caller's transaction.

        The batch's rows stay in the staging table for the non-transactional policies.
        Returns (rows stored, duplicates skipped, rows added per target table).
        """
        names = self._source.column_names
        columns = ", ".join(f'"{c}"' for c in names)
        incoming = f'"{_STAGING}"."incoming"'
        staged = f'"{_STAGING}"."{_SOURCE_TABLE}"'
        cursor.execute(f"DELETE FROM {incoming}")  # noqa: S608  # nosec B608 - identifiers from our .kql, values bound
        cursor.execute(f"DELETE FROM {staged}")  # noqa: S608  # nosec B608 - identifiers from our .kql, values bound
        if rows:
            # One statement for the whole batch: the rows travel as one JSON parameter
            # (every value as text, cast per column): one round trip, not one per row.
            casts = ", ".join(
                f"CAST(r[{i + 1}] AS {_DUCKDB_TYPES[c.kql_type]})"
                for i, c in enumerate(self._source.columns)
            )
            cursor.execute(
                f"INSERT INTO {incoming} SELECT {casts}, CAST(r[{len(names) + 1}] AS BIGINT) "  # noqa: S608  # nosec B608 - identifiers from our .kql
                "FROM (SELECT unnest(from_json(CAST(? AS JSON), '[[\"VARCHAR\"]]')) AS r)",
                [rows_as_json(rows)],
            )
        # New rows only. First, keep the first occurrence of each ReadingId in the batch (a
        # row without one is kept: the quarantine policy reports it).
        cursor.execute(
            f'DELETE FROM {incoming} WHERE "{_ORDINAL}" NOT IN (SELECT min("{_ORDINAL}") '  # noqa: S608  # nosec B608 - identifiers from our .kql
            f'FROM {incoming} GROUP BY coalesce("ReadingId", \'#\' || "{_ORDINAL}"))'
        )
        # Then drop what is already stored. A ReadingId is derived from (device, ts, seq),
        # so a stored duplicate has the same Timestamp: matching on it too lets DuckDB skip
        # row groups by Timestamp instead of probing every stored id (DELETE ... USING
        # keeps the small batch as the hash-join build side). Rows
        # without a Timestamp (rare, quarantined) match on ReadingId alone.
        stored_rows = f'main."{_SOURCE_TABLE}"'
        for match in (
            'r."ReadingId" = i."ReadingId" AND r."Timestamp" = i."Timestamp"',
            'i."Timestamp" IS NULL AND r."ReadingId" = i."ReadingId"',
        ):
            delete = f"DELETE FROM {incoming} AS i USING {stored_rows} AS r WHERE {match}"  # noqa: S608  # nosec B608 - identifiers from our .kql
            cursor.execute(delete)
        cursor.execute(
            f'INSERT INTO {staged} SELECT {columns} FROM {incoming} ORDER BY "{_ORDINAL}"'  # noqa: S608  # nosec B608 - identifiers from our .kql
        )
        (stored,) = _one(cursor, f"SELECT count(*) FROM {staged}")  # noqa: S608  # nosec B608 - identifiers from our .kql, values bound
        cursor.execute(f'INSERT INTO main."{_SOURCE_TABLE}" SELECT * FROM {staged}')  # noqa: S608  # nosec B608 - identifiers from our .kql, values bound
        targets: dict[str, int] = {}
        for policy in self._policies:
            if policy.transactional:
                targets[policy.table] = targets.get(policy.table, 0) + _run_policy(cursor, policy)
        return int(stored), len(rows) - int(stored), targets

    def _stamp(self) -> dt.datetime:
        stamp: dt.datetime = naive_utc(self._now() if self._now else dt.datetime.now(dt.UTC))
        return stamp

    # -- setup -----------------------------------------------------------------------

    def _create_tables(self) -> None:
        con = self._connection
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{_STAGING}"')
        for table in self.schema.tables.values():
            con.execute(f'CREATE TABLE IF NOT EXISTS main."{table.name}" ({_column_sql(table)})')
            # .create-merge semantics on an existing database file: add missing columns.
            for column in table.columns:
                con.execute(
                    f'ALTER TABLE main."{table.name}" ADD COLUMN IF NOT EXISTS '
                    f'"{column.name}" {_DUCKDB_TYPES[column.kql_type]}'
                )
        for view in self._views.values():
            view.create(con, self.schema, self._database)
        source = self.schema.tables[_SOURCE_TABLE]
        con.execute(
            f'CREATE TABLE IF NOT EXISTS "{_STAGING}"."{_SOURCE_TABLE}" ({_column_sql(source)})'
        )
        con.execute(
            f'CREATE TABLE IF NOT EXISTS "{_STAGING}"."incoming" '
            f'({_column_sql(source)}, "{_ORDINAL}" BIGINT)'
        )


_compile_lock = threading.Lock()
_compiled_by_schema: dict[int, tuple[KustoSchema, ResolvedFunctions, tuple[_PolicySql, ...]]] = {}


def _compiled(schema: KustoSchema) -> tuple[ResolvedFunctions, tuple[_PolicySql, ...]]:
    """Parsed stored functions and the SQL of each enabled update policy, once per schema.

    duckdb-kql's ANTLR parse dominates start-up and every translation, so it is done once
    (the schema object is kept alongside so its id cannot be reused).
    """
    with _compile_lock:
        hit = _compiled_by_schema.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1], hit[2]
        functions = parse_functions([fn.definition for fn in schema.functions.values()]) or {}
        policies = _policy_sql(schema, functions)
        _compiled_by_schema[id(schema)] = (schema, functions, policies)
        return functions, policies


@dataclass(frozen=True)
class _PolicySql:
    """An enabled update policy on RawReadings: its target, Query as SQL, IsTransactional."""

    table: str
    sql: str
    transactional: bool


def _policy_sql(schema: KustoSchema, functions: ResolvedFunctions) -> tuple[_PolicySql, ...]:
    return tuple(
        _PolicySql(
            policy.table,
            str(
                duckdb_kql.to_sql(
                    policy.query,
                    schema=schema.table_columns(),
                    functions=functions,
                    allow_write=False,
                )
            ),
            policy.is_transactional,
        )
        for policy in schema.update_policies
        if policy.is_enabled and policy.source == _SOURCE_TABLE
    )


def _run_policy(cursor: duckdb.DuckDBPyConnection, policy: _PolicySql) -> int:
    """Append the policy's Query over the batch rows to its target; the rows added."""
    target = f'main."{policy.table}"'
    (before,) = _one(cursor, f"SELECT count(*) FROM {target}")  # noqa: S608  # nosec B608 - identifiers from our .kql
    cursor.execute(f"INSERT INTO {target} BY NAME ({policy.sql})")
    (after,) = _one(cursor, f"SELECT count(*) FROM {target}")  # noqa: S608  # nosec B608 - identifiers from our .kql
    return int(after) - int(before)


def _column_sql(table: Table) -> str:
    return ", ".join(f'"{c.name}" {_DUCKDB_TYPES[c.kql_type]}' for c in table.columns)


#: DuckDB's time zone-less timestamp types: the engine stores UTC (its TimeZone is UTC).
_NAIVE_TIMESTAMPS = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})


def _with_utc(rows: list[tuple[Any, ...]], description: Any) -> list[tuple[Any, ...]]:
    """Rows with their naive timestamp columns marked UTC (only those columns are visited)."""
    positions = [i for i, column in enumerate(description) if str(column[1]) in _NAIVE_TIMESTAMPS]
    if not positions:
        return rows
    marked = []
    for row in rows:
        values = list(row)
        for i in positions:
            values[i] = _to_utc(values[i])
        marked.append(tuple(values))
    return marked


def _to_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _one(cursor: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = cursor.execute(sql).fetchone()
    if row is None:
        raise IngestError(f"no result for {sql}")
    return tuple(row)
