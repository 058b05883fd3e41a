"""The two constructs LocalKusto teaches duckdb-kql: still refused upstream, run after apply()."""

from __future__ import annotations

import subprocess
import sys

from powerwatch_kusto import LocalKusto

UPSTREAM = """
import duckdb_kql
texts = ("declare query_parameters(n:long); print x = 1 | take n", "print x = strcmp('a', 'b')")
for text in texts:
    try:
        duckdb_kql.to_sql(text)
    except duckdb_kql.KqlUnsupportedError:
        print("refused")
"""


def test_upstream_still_refuses_both() -> None:
    # A fresh interpreter: this process has the extension applied.
    out = subprocess.run(
        [sys.executable, "-c", UPSTREAM], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["refused", "refused"], (
        "upstream caught up: drop _engine_extensions"
    )


def test_extended_engine_runs_them(kusto: LocalKusto) -> None:
    result = kusto.query("declare query_parameters(n:long); RawReadings | take n | count", {"n": 2})
    assert result.rows == [(0,)]
    ordered = kusto.query("print a = strcmp('a', 'b'), b = strcmp('b', 'a'), c = strcmp('x', 'x')")
    assert ordered.rows == [(-1, 1, 0)]
