"""What _engine_extensions teaches duckdb-kql: the two constructs upstream still refuses,
and the plan-size shortcuts, each checked for its short SQL and for the upstream answer."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from powerwatch_kusto import KustoSchema, LocalKusto, load_schema
from powerwatch_kusto._engine_extensions import upstream_rendering

from .conftest import NOW, T0

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


# -- plan-size shortcuts (5.-12.): short SQL, same answers as the upstream rendering ----

EDGE_CASES = [
    # id, device, ts (None = missing), voltage, current
    ("e1", "drv-01", "2026-11-25T18:00:00Z", 230.0, 30.0),
    ("e2", "drv-01", "2026-11-25T18:00:00Z", 230.0, 31.0),  # same Timestamp as e1
    ("e3", "drv-01", "2026-11-25T18:00:00Z", 230.0, 4.0),
    ("e4", "drv-02", "2026-11-25T18:00:01Z", 230.0, 40.0),
    ("e5", None, "2026-11-25T18:00:02Z", 230.0, 40.0),  # null DeviceId
    ("e6", "", "2026-11-25T18:00:03Z", 230.0, 40.0),  # empty DeviceId
    ("e7", "drv-02", "2026-11-25T18:00:04Z", float("nan"), 40.0),
    ("e8", "drv-lab-01", "2026-11-25T18:00:05Z", 230.0, 20.0),
    ("e9", "drv-02", None, 230.0, 40.0),  # no Timestamp
    (None, "drv-03", "2026-11-25T18:00:06Z", 230.0, 40.0),  # no ReadingId
    ("e1", "drv-01", "2026-11-25T18:00:00Z", 230.0, 30.0),  # duplicate
]


def _edge_records() -> list[dict[str, Any]]:
    records = []
    for seq, (rid, device, ts, voltage, current) in enumerate(EDGE_CASES):
        record: dict[str, Any] = {"seq": seq, "voltage": voltage, "current": current}
        record["received_at"] = ts or "2026-11-25T18:00:09Z"
        for key, value in (("reading_id", rid), ("device_id", device), ("ts", ts)):
            if value is not None:
                record[key] = value
        records.append(record)
    return records


@pytest.fixture
def pair() -> Iterator[tuple[LocalKusto, LocalKusto]]:
    """(patched, upstream) engines holding the same edge-case batch."""
    with upstream_rendering():
        upstream = LocalKusto(schema=load_schema(), now=lambda: NOW)
    patched = LocalKusto(schema=load_schema(), now=lambda: NOW)
    try:
        for engine in (patched, upstream):
            engine.ingest(_edge_records())
        yield patched, upstream
    finally:
        patched.close()
        upstream.close()


def _same_answer(
    pair: tuple[LocalKusto, LocalKusto], text: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    patched, upstream = pair
    with upstream_rendering():
        expected = upstream.query(text, params)
    got = patched.query(text, params)
    assert got.columns == expected.columns, text
    assert repr(got.rows) == repr(expected.rows), (text, params)  # repr: NaN equals NaN
    return got.rows


def _sql(kusto: LocalKusto, text: str, params: dict[str, Any] | None = None) -> str:
    return kusto.translate(text, params)[0]


def test_upstream_rendering_switch_restores_the_long_forms(schema: KustoSchema) -> None:
    text = "print d = datetime(1970-01-01)"
    with upstream_rendering(), LocalKusto(schema=schema) as upstream:
        assert "try_strptime" in _sql(upstream, text)
    with LocalKusto(schema=schema) as patched:
        assert _sql(patched, text) == "SELECT TIMESTAMP '1970-01-01 00:00:00' AS \"d\""


def test_datetime_literal_is_a_constant(
    kusto: LocalKusto, pair: tuple[LocalKusto, LocalKusto]
) -> None:
    texts = [
        "1970-01-01",
        "2026-11-24",
        "2024-02-29",
        "2026-11-24T10:11:12",
        "2026-11-24 10:11:12",
        "2026-11-24T10:11:12Z",
        "2026-11-24T23:59:59.999999Z",
        "2026-11-24T10:11:12.5",
        "0001-01-01",
        "9999-12-31T23:59:59",
    ]
    fallbacks = ["2026-02-30", "2026-11-24T10:11:12.1234567", "11/24/2026", "2026-11-24T24:00:00"]
    for literal in texts:
        assert "try_strptime" not in _sql(kusto, f"print d = datetime({literal})"), literal
    for literal in fallbacks:
        assert "try_strptime" in _sql(kusto, f"print d = datetime({literal})"), literal
    columns = ", ".join(f"c{i} = datetime({t})" for i, t in enumerate(texts + fallbacks))
    rows = _same_answer(pair, f"print {columns}")
    assert rows[0][0] == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert rows[0][len(texts)] is None  # Feb 30: null both ways


def test_isempty_of_a_string_parameter_casts_once(kusto: LocalKusto) -> None:
    sql, _ = kusto.translate(
        "declare query_parameters(d:string); print a = isempty(d), b = isnotempty(d)", {"d": ""}
    )
    assert "CAST(CAST(" not in sql
    for value, expected in (("", (True, False)), (None, (True, False)), ("x", (False, True))):
        result = kusto.query(
            "declare query_parameters(d:string); print a = isempty(d), b = isnotempty(d)",
            {"d": value},
        )
        assert result.rows == [expected]


def test_api_shapes_are_short(kusto: LocalKusto, schema: KustoSchema) -> None:
    window = {"fromTime": T0, "toTime": T0}
    critical = _sql(kusto, schema.call_query("CriticalEvents"), window)
    assert 'CASE WHEN "DeviceId" IS NULL' not in critical  # 7.
    assert '("DeviceId" = CAST(' in critical
    assert "THEN -1" not in critical  # 8.
    assert critical.count(" WHERE ") == 1  # 9.: three `where`s, one stage
    assert "ORDER BY" in critical.split("LIMIT")[0].rsplit("SELECT", 1)[1]  # 9.: sort+take
    assert 'AS (SELECT * FROM "PowerEventsDeduped")' not in critical  # 10.
    assert 'SELECT * FROM "PowerEventsDeduped" WHERE' not in critical  # 10.: filter read by project
    assert 'FROM "PowerEventsDeduped" WHERE ' in critical
    assert not critical.rstrip().endswith(("_s1", "_s2", "_s3", "_s4"))  # 10.
    assert '"DeviceId" AS "DeviceId"' not in critical.rsplit("\n", 1)[1]  # 12.
    incidents = _sql(kusto, schema.call_query("PowerIncidents"), window)
    assert "typeof(_v)" not in incidents  # 11.


@pytest.mark.parametrize(
    ("device", "after_time", "after_id"),
    [
        ("", None, ""),
        ("drv-01", None, ""),
        ("", None, None),
        (None, None, ""),
        ("drv-01", T0, "e2"),  # cursor inside a run of equal timestamps
        ("", T0, ""),
        ("", T0, None),
        ("drv-02", T0 + dt.timedelta(seconds=4), "e7"),
    ],
)
def test_api_functions_answer_as_upstream(
    pair: tuple[LocalKusto, LocalKusto],
    schema: KustoSchema,
    device: str | None,
    after_time: dt.datetime | None,
    after_id: str | None,
) -> None:
    window = {"fromTime": T0 - dt.timedelta(hours=1), "toTime": T0 + dt.timedelta(hours=1)}
    events = _same_answer(
        pair,
        schema.call_query("CriticalEvents"),
        {**window, "deviceId": device, "maxRows": 3, "afterTime": after_time}
        | {"afterReadingId": after_id},
    )
    if device == "" and after_time is None:
        assert [row[2] for row in events] == ["e8", "e4", "e2"]  # e1/e2 tie: id desc
    _same_answer(
        pair, schema.call_query("PowerIncidents"), {**window, "deviceId": device, "maxRows": 10}
    )
    _same_answer(
        pair,
        schema.call_query("PowerSeries"),
        {**window, "deviceId": device, "binSize": dt.timedelta(seconds=2)},
    )
    _same_answer(pair, schema.call_query("DeviceStatus"), {"silentAfter": dt.timedelta(minutes=5)})


@pytest.mark.parametrize("value", ["", "drv-01", "e1", None])
def test_comparisons_keep_null_semantics_outside_where(
    pair: tuple[LocalKusto, LocalKusto], value: str | None
) -> None:
    head = "declare query_parameters(d:string); RawReadings"
    tail = "| project ReadingId, DeviceId | sort by ReadingId asc"
    for query in (
        # 7.: `not`, `extend` and a comparison shared with a `not` keep the null guard.
        f"{head} | where not(DeviceId == d) {tail}",
        f"{head} | where DeviceId == d or not(DeviceId == d) {tail}",
        f"{head} | where (DeviceId == d and Voltage > 1) or isempty(d) {tail}",
        f"{head} | extend e = DeviceId == d | project ReadingId, e | sort by ReadingId asc",
        # 8.: every comparison with 0, in and out of a `where`, null operands included.
        f"{head} | where strcmp(DeviceId, d) < 0 {tail}",
        f"{head} | where strcmp(DeviceId, d) >= 0 {tail}",
        f"{head} | where not(strcmp(ReadingId, d) > 0) {tail}",
        f"{head} | where strcmp(DeviceId, d) == 0 or strcmp(DeviceId, d) != 0 {tail}",
        f"{head} | extend a = strcmp(DeviceId, d) < 0, b = strcmp(DeviceId, d) <= 0, "
        "c = strcmp(DeviceId, d) == 0 | project ReadingId, a, b, c | sort by ReadingId asc",
        # 9.: fused `where`s and `sort | take` over nulls and NaN.
        f"{head} | where Voltage > 1 | where isnotempty(DeviceId) or DeviceId == d {tail}",
        f"{head} | sort by DeviceId asc, ReadingId desc | take 4 | project ReadingId",
    ):
        _same_answer(pair, query, {"d": value})


def test_buckets_and_projections_answer_as_upstream(pair: tuple[LocalKusto, LocalKusto]) -> None:
    # 11.: null Timestamp, and timestamps on both sides of a bucket edge.
    rows = _same_answer(
        pair,
        "RawReadings | extend b = tolong(floor((Timestamp - datetime(1970-01-01)) / 1500ms, 1)) "
        "| project ReadingId, b | sort by ReadingId asc",
    )
    assert any(b is None for _, b in rows)
    # 10./12.: renames, a bare table and a table read by a join's first operator.
    _same_answer(pair, "RawReadings | project Id = ReadingId, DeviceId | sort by Id asc")
    _same_answer(pair, "PowerEvents")
    _same_answer(
        pair,
        "let t = RawReadings | where Current > 5 | project-away Seq; "
        "t | where isnotempty(DeviceId) | summarize n = count(), v = max(Voltage) by DeviceId "
        "| sort by DeviceId asc",
    )
    _same_answer(
        pair,
        "RawReadings | join kind=leftanti (PowerEvents) on ReadingId | project ReadingId "
        "| sort by ReadingId asc",
    )
    # The update policies ran on both renderings: same stored rows.
    for table in ("PowerEvents", "QuarantinedReadings"):
        _same_answer(pair, f"{table} | project-away IngestionTime | sort by ReadingId asc")
