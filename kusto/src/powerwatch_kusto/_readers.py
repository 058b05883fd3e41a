"""LocalKusto's reader connections: one DuckDB cursor per calling thread, each with the
statements it has parsed.

A cursor is a connection to the same database; each statement is its own transaction, so
it sees the last commit. A thread keeps its cursor: opening one and setting its time zone
cost about as much as a small query.

Each reader also keeps the parsed form of the SQL texts it has run (`extract_statements`,
DuckDB's public API), keyed by the text, and executes that instead of the text. The SQL of
a query text is the same on every call (values are bound separately), and executing a
text parses it again each time, which for the CTE chains duckdb-kql renders costs a good
part of a small query. What is kept is syntax only, never data: every execution binds
against the current catalog and reads the current snapshot. It is the ordinary
statement-reuse of a database driver, per connection like a prepared-statement set.
DuckDB's own prepared statements would not save more (a statement with parameters is
bound and planned again at each execution), and the Python client exposes none.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import duckdb


class _Reader:
    """One thread's cursor and the statements parsed on it (least recently used last out)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, capacity: int) -> None:
        self.cursor = cursor
        self._capacity = capacity
        self._parsed: OrderedDict[str, duckdb.Statement | None] = OrderedDict()

    def execute(self, sql: str, values: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
        statement = self._statement(sql)
        query: duckdb.Statement | str = sql if statement is None else statement
        return self.cursor.execute(query, dict(values)) if values else self.cursor.execute(query)

    def _statement(self, sql: str) -> duckdb.Statement | None:
        """The parsed statement of *sql*; None when the text is not one statement."""
        if sql in self._parsed:
            self._parsed.move_to_end(sql)
            return self._parsed[sql]
        statements = self.cursor.extract_statements(sql)
        # A script of several statements runs as text, as DuckDB would run it anyway.
        statement = statements[0] if len(statements) == 1 else None
        self._parsed[sql] = statement
        while len(self._parsed) > self._capacity:
            self._parsed.popitem(last=False)
        return statement

    @property
    def parsed(self) -> int:
        return len(self._parsed)

    def close(self) -> None:
        self._parsed.clear()
        with contextlib.suppress(duckdb.Error):
            self.cursor.close()


class Readers:
    """The reader cursors of one database connection, one per calling thread."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, capacity: int) -> None:
        self._connection = connection
        self._capacity = capacity
        self._local = threading.local()
        self._by_thread: dict[threading.Thread, _Reader] = {}
        self._lock = threading.Lock()

    def current(self) -> _Reader:
        """This thread's reader, opened on first use."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            cursor = self._connection.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            reader = _Reader(cursor, self._capacity)
            with self._lock:
                # Worker threads come and go (thread pools retire idle ones): close the
                # readers of finished threads so they do not accumulate.
                for thread in [t for t in self._by_thread if not t.is_alive()]:
                    self._by_thread.pop(thread).close()
                self._by_thread[threading.current_thread()] = reader
            self._local.reader = reader
        return reader

    def drop_current(self) -> None:
        """Close this thread's reader (after an error): the next query starts clean."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        self._local.reader = None
        with self._lock:
            self._by_thread.pop(threading.current_thread(), None)
        if reader is not None:
            reader.close()

    def open_count(self) -> int:
        """Readers open now (for tests and diagnostics)."""
        with self._lock:
            return len(self._by_thread)

    def close(self) -> None:
        with self._lock:
            for reader in self._by_thread.values():
                reader.close()
            self._by_thread.clear()
