"""LocalKusto's reader connections: one DuckDB cursor per calling thread.

A cursor is a connection to the same database; each statement is its own transaction, so
it sees the last commit. A thread keeps its cursor: opening one and setting its time zone
cost about as much as a small query.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any

import duckdb


class _Reader:
    """One thread's cursor."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor

    def execute(
        self, query: duckdb.Statement | str, values: Mapping[str, Any]
    ) -> duckdb.DuckDBPyConnection:
        return self.cursor.execute(query, dict(values)) if values else self.cursor.execute(query)

    def parse(self, sql: str) -> duckdb.Statement | str:
        """*sql* parsed, to execute many times; the text itself when it is not one statement.

        Executing a parsed statement skips parsing the text again, which for the CTE chains
        duckdb-kql renders is a good part of a small query. DuckDB executes a copy of the
        statement each time (duckdb-python, `DuckDBPyStatement::GetStatement`), so the
        parsed form may run on any cursor and thread.
        """
        statements = self.cursor.extract_statements(sql)
        # A script of several statements runs as text, as DuckDB would run it anyway.
        return statements[0] if len(statements) == 1 else sql

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.cursor.close()


class Readers:
    """The reader cursors of one database connection, one per calling thread."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self._local = threading.local()
        self._by_thread: dict[threading.Thread, _Reader] = {}
        self._lock = threading.Lock()

    def current(self) -> _Reader:
        """This thread's reader, opened on first use."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            cursor = self._connection.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            reader = _Reader(cursor)
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
