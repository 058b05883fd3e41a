"""The two constructs LocalKusto teaches duckdb-kql: still refused upstream, run after apply()."""

from __future__ import annotations

import math
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


def test_typed_columns_keep_kusto_answers(kusto: LocalKusto) -> None:
    # isempty/== over known string columns render without the dynamic guard; still
    # null-or-empty, still exact equality.
    kusto.ingest(
        [
            {
                "reading_id": "r1",
                "device_id": "a",
                "ts": "2026-11-25T18:00:00Z",
                "voltage": 230.0,
                "current": 1.0,
                "seq": 1,
                "received_at": "2026-11-25T18:00:00Z",
            },
            {
                "reading_id": "r2",
                "device_id": "",
                "ts": "2026-11-25T18:00:01Z",
                "voltage": 230.0,
                "current": 1.0,
                "seq": 2,
                "received_at": "2026-11-25T18:00:01Z",
            },
        ]
    )
    sql, _ = kusto.translate("RawReadings | where isempty(DeviceId) | project ReadingId")
    assert "typeof" not in sql
    result = kusto.query("RawReadings | where isempty(DeviceId) | project ReadingId")
    assert result.rows == [("r2",)]
    answer = kusto.query("QuarantinedReadings | where DeviceId == '' | project Reason")
    assert answer.rows == [("missing DeviceId",)]
    # A computed dynamic is still unwrapped as Kusto does.
    unwrapped = kusto.query("print d = dynamic('') | extend e = isempty(d) | project e")
    assert unwrapped.rows == [(True,)]


def test_floor_with_unit_step_is_sql_floor(kusto: LocalKusto) -> None:
    sql, _ = kusto.translate("print a = floor(-7.5, 1)")
    assert "list_transform" not in sql
    result = kusto.query(
        "print a = floor(-7.5, 1), b = floor(7.9, 1), c = bin(-7, 1), d = floor(-7, 5), "
        "e = bin(real(nan), 1)"
    )
    a, b, c, d, e = result.rows[0]
    assert (a, b, c, d) == (-8.0, 7.0, -7, -10)
    assert math.isnan(e)
