"""The materialized views LocalKusto serves: two shapes, each a plain DuckDB view.

Only views that a stored function reads are served, and every such view is one of these
shapes (a test queries each):
* `T | summarize take_any(*) by K1, K2...` (de-duplication). Duplicates never reach a table
  here (ingest skips a stored ReadingId; update-policy rows come from new rows only), so the
  view equals T; a unique index on T(K1, K2...) turns that premise into a checked invariant.
* `T | <filters> | summarize arg_max(C, *) by K` ("last record per entity",
  materialized-view-use-cases; arg_max returns the whole row). Locally a view computing
  exactly that: the filters are the view's own KQL (translated by duckdb-kql), the pick is
  one whole row per K by row_number(), so a row's columns never mix two source rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import duckdb_kql

from .errors import StorageError
from .loader import KustoSchema
from .model import MaterializedView

_TAKE_ANY = re.compile(
    r"^\s*(?P<source>\w+)\s*\|\s*summarize\s+take_any\(\*\)\s+by\s+\w+(?:\s*,\s*\w+)*\s*$"
)
_ARG_MAX = re.compile(
    r"^(?P<rows>(?P<source>\w+)\b(?:\s*\|.*?)?)\s*\|\s*summarize\s+arg_max\(\s*(?P<column>\w+)"
    r"\s*,\s*\*\s*\)\s+by\s+\w+\s*$",
    re.S,
)


def _quoted(columns: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


@dataclass(frozen=True)
class DedupView:
    """`source | summarize take_any(*) by keys`."""

    name: str
    source: str
    keys: tuple[str, ...]

    def columns(self, schema: KustoSchema) -> list[str]:
        """The view's columns as Kusto orders them: the by-columns, then the rest."""
        rest = [c for c in schema.tables[self.source].column_names if c not in self.keys]
        return [*self.keys, *rest]

    def create(self, con: duckdb.DuckDBPyConnection, schema: KustoSchema, database: str) -> None:
        index = f'"{self.name}_{"_".join(self.keys)}"'
        try:
            con.execute(
                f'CREATE UNIQUE INDEX IF NOT EXISTS {index} ON main."{self.source}" '
                f"({_quoted(self.keys)})"
            )
        except duckdb.ConstraintException as error:
            # Only a file written without this index (by hand, or by a version before it)
            # can get here; the file is left as it was.
            raise StorageError(
                f"{database}: {self.source} holds more than one row for some "
                f"({', '.join(self.keys)}), so {self.name} cannot be kept exact. De-duplicate "
                f"the table (keep one row per key) or start from a new file."
            ) from error
        con.execute(
            f'CREATE OR REPLACE VIEW main."{self.name}" AS '  # noqa: S608  # nosec B608 - identifiers from our .kql
            f'SELECT {_quoted(self.columns(schema))} FROM main."{self.source}"'
        )


@dataclass(frozen=True)
class LatestView:
    """`source | <filters> | summarize arg_max(column, *) by key` (`rows` is up to the filters)."""

    name: str
    source: str
    rows: str
    column: str
    key: str

    def columns(self, schema: KustoSchema) -> list[str]:
        """Kusto's order for arg_max(c, *) by k: k, c, then the source's other columns."""
        first = (self.key, self.column)
        rest = [c for c in schema.tables[self.source].column_names if c not in first]
        return [*first, *rest]

    def create(self, con: duckdb.DuckDBPyConnection, schema: KustoSchema, database: str) -> None:
        kept = duckdb_kql.to_sql(self.rows, schema=schema.table_columns(), allow_write=False)
        con.execute(
            f'CREATE OR REPLACE VIEW main."{self.name}" AS '  # noqa: S608  # nosec B608 - our .kql
            f"SELECT {_quoted(self.columns(schema))} FROM ({kept}) AS kept "
            f'QUALIFY row_number() OVER (PARTITION BY "{self.key}" '
            f'ORDER BY "{self.column}" DESC) = 1'
        )


LocalView = DedupView | LatestView


def local_views(schema: KustoSchema) -> dict[str, LocalView]:
    """The views a stored function reads that have one of the two shapes, by name."""
    bodies = " ".join(fn.body for fn in schema.functions.values())
    read = [
        view
        for view in schema.views.values()
        if view.source in schema.tables and re.search(rf"\b{re.escape(view.name)}\b", bodies)
    ]
    return {view.name: shaped for view in read if (shaped := _shaped(view)) is not None}


def _shaped(view: MaterializedView) -> LocalView | None:
    take_any = _TAKE_ANY.match(view.query)
    if take_any is not None and take_any["source"] == view.source:
        return DedupView(view.name, view.source, view.keys)
    arg_max = _ARG_MAX.match(view.query)
    if arg_max is not None and arg_max["source"] == view.source:
        (key,) = view.keys
        return LatestView(view.name, view.source, arg_max["rows"], arg_max["column"], key)
    return None
