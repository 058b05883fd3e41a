"""The detection, quarantine and API functions executed on LocalKusto over fixture data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shutil
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest
from powerwatch_kusto import (
    IngestError,
    KustoSchema,
    LocalKusto,
    QueryError,
    StorageError,
    load_schema,
)
from powerwatch_kusto._readers import Readers

from .conftest import NOW, T0, reading

DAY = {"fromTime": T0 - dt.timedelta(hours=1), "toTime": T0 + dt.timedelta(hours=1)}


def events(kusto: LocalKusto, schema: KustoSchema, **overrides: Any) -> list[dict[str, Any]]:
    params = {
        **DAY,
        "deviceId": "",
        "maxRows": 1000,
        "afterTime": None,
        "afterReadingId": "",
        **overrides,
    }
    return kusto.query(schema.call_query("CriticalEvents"), params).as_dicts()


def incidents(kusto: LocalKusto, schema: KustoSchema, **overrides: Any) -> list[dict[str, Any]]:
    params = {
        **DAY,
        "deviceId": "",
        "maxRows": 100,
        "maxGap": dt.timedelta(milliseconds=1500),
        **overrides,
    }
    return kusto.query(schema.call_query("PowerIncidents"), params).as_dicts()


def test_equal_to_threshold_is_not_over(kusto: LocalKusto, schema: KustoSchema) -> None:
    # 5000 W exactly, a hair above, and below (default threshold 5000 W).
    result = kusto.ingest(
        [
            reading(0, voltage=250.0, current=20.0),
            reading(1, voltage=250.0, current=20.0004),
            reading(2, voltage=250.0, current=19.9),
        ]
    )
    assert (result.raw, result.events, result.quarantined) == (3, 1, 0)
    [event] = events(kusto, schema)
    assert event["ReadingId"] == "drv-01:1"
    assert event["ThresholdW"] == 5000.0
    assert event["ExcessW"] == pytest.approx(0.1)
    assert event["Timestamp"] == T0 + dt.timedelta(seconds=1)


def test_per_device_overrides(kusto: LocalKusto, schema: KustoSchema) -> None:
    # 4000 W: over drv-lab-01's 3000 W, under the 5000 W default and drv-hv-01's 8000 W.
    kusto.ingest(
        [
            reading(0, device="drv-lab-01", voltage=200.0, current=20.0),
            reading(0, device="drv-02", voltage=200.0, current=20.0),
            reading(0, device="drv-hv-01", voltage=200.0, current=20.0),
            reading(1, device="drv-hv-01", voltage=200.0, current=45.0),
        ]
    )
    found = {(e["DeviceId"], e["ThresholdW"]) for e in events(kusto, schema)}
    assert found == {("drv-lab-01", 3000.0), ("drv-hv-01", 8000.0)}


def test_valid_readings_above_a_power_keep_their_thresholds(kusto: LocalKusto) -> None:
    # ValidReadings() keeps every valid reading (zero power too); ValidReadings(w) only
    # those strictly above w, each with the same ThresholdW as without the bound.
    kusto.ingest(
        [
            reading(0, device="drv-lab-01", voltage=200.0, current=15.0),  # 3000 W
            reading(1, device="drv-lab-01", voltage=200.0, current=16.0),
            reading(0, device="drv-02", voltage=230.0, current=0.0),
            reading(1, device="drv-02", voltage=230.0, current=20.0),
        ]
    )
    query = "ValidReadings({}) | project ReadingId, PowerW, ThresholdW | sort by ReadingId asc"
    every = kusto.query(query.format("")).rows
    assert every == [
        ("drv-02:0", 0.0, 5000.0),
        ("drv-02:1", 4600.0, 5000.0),
        ("drv-lab-01:0", 3000.0, 3000.0),
        ("drv-lab-01:1", 3200.0, 3000.0),
    ]
    assert kusto.query(query.format("3000.0")).rows == [r for r in every if r[1] > 3000.0]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("voltage", None, "missing Voltage"),
        ("current", None, "missing Current"),
        ("voltage", float("nan"), "non-finite Voltage"),
        ("current", "NaN", "non-finite Current"),
        ("voltage", float("inf"), "non-finite Voltage"),
        ("voltage", "not a number", "missing Voltage"),
        ("ts", None, "missing Timestamp"),
        ("device_id", "", "missing DeviceId"),
    ],
)
def test_invalid_readings_go_to_quarantine(
    kusto: LocalKusto, schema: KustoSchema, field: str, value: Any, reason: str
) -> None:
    bad = reading(0, voltage=400.0, current=50.0)  # would be an event if it were valid
    bad[field] = value
    result = kusto.ingest([bad, reading(1)])
    assert (result.raw, result.events, result.quarantined) == (2, 0, 1)
    [row] = kusto.query("QuarantinedReadings").as_dicts()
    assert row["Reason"] == reason
    assert row["ReadingId"] == "drv-01:0"
    assert events(kusto, schema) == []


def test_duplicates_are_stored_once(kusto: LocalKusto, schema: KustoSchema) -> None:
    surge = reading(0, current=30.0)
    first = kusto.ingest([surge, dict(surge)])  # twice in one batch
    again = kusto.ingest([dict(surge), reading(1, current=30.0)])  # and re-sent later
    assert (first.raw, first.duplicates, first.events) == (1, 1, 1)
    assert (again.raw, again.duplicates, again.events) == (1, 1, 1)
    assert [e["ReadingId"] for e in events(kusto, schema)] == ["drv-01:1", "drv-01:0"]
    assert kusto.query("RawReadings | count").rows == [(2,)]


def test_out_of_order_readings(kusto: LocalKusto, schema: KustoSchema) -> None:
    kusto.ingest([reading(5, current=30.0), reading(9)])
    kusto.ingest([reading(3, current=30.0), reading(4, current=30.0)])  # arrive late
    assert [e["ReadingId"] for e in events(kusto, schema)] == ["drv-01:5", "drv-01:4", "drv-01:3"]
    [latest] = kusto.query(schema.call_query("LatestReadings")).as_dicts()
    assert latest["ReadingId"] == "drv-01:9"
    [incident] = incidents(kusto, schema)
    assert (incident["StartTime"], incident["EndTime"], incident["Readings"]) == (
        T0 + dt.timedelta(seconds=3),
        T0 + dt.timedelta(seconds=5),
        3,
    )


def test_surge_spanning_two_batches_is_one_incident(kusto: LocalKusto, schema: KustoSchema) -> None:
    # 230 V x 25 A = 5750 W (750 W over) for 6 s, split across two ingestion batches.
    kusto.ingest([reading(i, current=25.0 if i >= 3 else 4.0) for i in range(6)])
    kusto.ingest([reading(i, current=25.0 if i < 9 else 4.0) for i in range(6, 12)])
    # A second, separate surge: one normal reading (a 2 s gap) splits it from the first.
    kusto.ingest([reading(i, current=30.0 if i != 14 else 4.0) for i in range(12, 17)])
    found = incidents(kusto, schema)
    assert [(i["StartTime"] - T0, i["EndTime"] - T0, i["Readings"]) for i in found] == [
        (dt.timedelta(seconds=15), dt.timedelta(seconds=16), 2),
        (dt.timedelta(seconds=12), dt.timedelta(seconds=13), 2),
        (dt.timedelta(seconds=3), dt.timedelta(seconds=8), 6),
    ]
    surge = found[-1]
    assert surge["Duration"] == dt.timedelta(seconds=5)
    assert surge["PeakPowerW"] == pytest.approx(5750.0)
    assert surge["EnergyOverWh"] == pytest.approx(6 * 750.0 / 3600)
    assert surge["ThresholdW"] == 5000.0
    assert len(incidents(kusto, schema, maxRows=1)) == 1


def test_incidents_are_per_device(kusto: LocalKusto, schema: KustoSchema) -> None:
    kusto.ingest(
        [reading(i, device=d, current=30.0) for i in range(3) for d in ("drv-01", "drv-02")]
    )
    assert sorted(i["DeviceId"] for i in incidents(kusto, schema)) == ["drv-01", "drv-02"]
    assert [i["DeviceId"] for i in incidents(kusto, schema, deviceId="drv-02")] == ["drv-02"]


def test_cursor_paging_walks_every_event_once(kusto: LocalKusto, schema: KustoSchema) -> None:
    # Two devices with events at the same timestamps: ReadingId breaks the ties.
    kusto.ingest(
        [
            reading(i % 5, device=f"drv-0{i % 2}", current=30.0, reading_id=f"id-{i:02d}")
            for i in range(10)
        ]
    )
    seen: list[str] = []
    cursor: dict[str, Any] = {"afterTime": None, "afterReadingId": ""}
    while True:
        page = events(kusto, schema, maxRows=3, **cursor)
        if not page:
            break
        assert len(page) <= 3
        seen += [e["ReadingId"] for e in page]
        cursor = {"afterTime": page[-1]["Timestamp"], "afterReadingId": page[-1]["ReadingId"]}
    everything = events(kusto, schema)
    assert seen == [e["ReadingId"] for e in everything]
    assert sorted(seen) == [f"id-{i:02d}" for i in range(10)]


def test_device_filter_and_time_range_are_half_open(kusto: LocalKusto, schema: KustoSchema) -> None:
    kusto.ingest(
        [reading(i, device=d, current=30.0) for i in range(4) for d in ("drv-01", "drv-02")]
    )
    window = {"fromTime": T0 + dt.timedelta(seconds=1), "toTime": T0 + dt.timedelta(seconds=3)}
    found = events(kusto, schema, deviceId="drv-02", **window)
    assert [e["ReadingId"] for e in found] == ["drv-02:2", "drv-02:1"]


def test_power_series_bins(kusto: LocalKusto, schema: KustoSchema) -> None:
    kusto.ingest([reading(i, current=float(i)) for i in range(20)] + [reading(20, voltage=None)])
    result = kusto.query(
        schema.call_query("PowerSeries"),
        {**DAY, "deviceId": "drv-01", "binSize": dt.timedelta(seconds=10)},
    ).as_dicts()
    assert [(r["BinStart"] - T0, r["Readings"]) for r in result] == [
        (dt.timedelta(0), 10),
        (dt.timedelta(seconds=10), 10),
    ]
    assert result[0]["AvgPowerW"] == pytest.approx(230.0 * 4.5)
    assert (result[1]["MinPowerW"], result[1]["MaxPowerW"]) == (2300.0, 230.0 * 19)
    assert result[0]["ThresholdW"] == 5000.0


def test_device_status(kusto: LocalKusto, schema: KustoSchema) -> None:
    recent = NOW - dt.timedelta(minutes=1)
    kusto.ingest(
        [
            reading(0, device="drv-01", at=recent),
            reading(0, device="drv-02", at=recent, current=30.0),
            reading(0, device="drv-03", at=NOW - dt.timedelta(minutes=10)),
        ]
    )
    rows = kusto.query(schema.call_query("DeviceStatus"), {"silentAfter": dt.timedelta(minutes=5)})
    assert [(r["DeviceId"], r["Status"]) for r in rows.as_dicts()] == [
        ("drv-01", "normal"),
        ("drv-02", "critical"),
        ("drv-03", "silent"),
    ]


def test_bad_batch_stores_nothing(kusto: LocalKusto) -> None:
    with pytest.raises(IngestError, match="record 1"):
        kusto.ingest([reading(0), "not an object"])  # type: ignore[list-item]
    assert kusto.query("RawReadings | count").rows == [(0,)]


def test_failing_transactional_policy_rolls_back_the_whole_batch(schema: KustoSchema) -> None:
    engine = LocalKusto(schema=schema)
    index = next(i for i, p in enumerate(engine._policies) if p.table == "PowerEvents")
    assert engine._policies[index].transactional
    engine._policies[index] = dataclasses.replace(
        engine._policies[index], sql="SELECT no_such_column FROM RawReadings"
    )
    with pytest.raises(IngestError, match="nothing stored"):
        engine.ingest([reading(0, current=30.0)])
    counts = [engine.query(f"{t} | count").rows[0][0] for t in schema.tables]
    assert len(counts) == 4
    assert counts == [0, 0, 0, 0]
    # The rollback emptied the batch's staging tables too: nothing is left for the next one.
    for staged in ('batch."RawReadings"', 'batch."incoming"'):
        assert engine._connection.execute(f"SELECT count(*) FROM {staged}").fetchone() == (0,)
    engine.close()


def test_dedup_views_read_by_functions_are_their_source(
    kusto: LocalKusto, schema: KustoSchema
) -> None:
    kusto.ingest([reading(0, current=30.0), reading(1, current=30.0), reading(2)])
    kusto.ingest([reading(1, current=30.0)])  # a re-sent copy, skipped at ingest
    view = kusto.query("PowerEventsDeduped | project ReadingId | sort by ReadingId asc")
    assert view.rows == [("drv-01:0",), ("drv-01:1",)]
    # Kusto's column order for `summarize take_any(*) by DeviceId, Timestamp, ReadingId`:
    # the keys first, in order.
    columns = kusto.query("PowerEventsDeduped | take 1").columns
    assert columns[:3] == ("DeviceId", "Timestamp", "ReadingId")
    assert sorted(columns) == sorted(schema.tables["PowerEvents"].column_names)


def test_every_view_a_function_reads_is_reproduced(kusto: LocalKusto, schema: KustoSchema) -> None:
    for name in schema.views:
        assert kusto.query(f"{name} | count").rows == [(0,)], name


def test_latest_view_is_arg_max_of_the_valid_readings(
    kusto: LocalKusto, schema: KustoSchema
) -> None:
    # LatestValidReadings repeats ClassifyReadings' rule in its own filter (a view reads
    # its table directly); here the two must agree: per device, the row of greatest
    # Timestamp among ValidReadings(), late arrivals and invalid readings included.
    kusto.ingest(
        [
            reading(5, device="drv-01"),
            reading(9, device="drv-01", voltage=math.nan),  # newest, but invalid
            reading(2, device="drv-02", current=30.0),
            reading(4, device="drv-03", current=math.inf),  # only an invalid reading
        ]
    )
    kusto.ingest([reading(1, device="drv-02"), reading(3, device="drv-01")])  # late, older
    expected = kusto.query(
        "ValidReadings() | summarize arg_max(Timestamp, ReadingId, PowerW, ThresholdW) by DeviceId"
        " | sort by DeviceId asc"
    ).as_dicts()
    latest = kusto.query(schema.call_query("LatestReadings") + " | sort by DeviceId asc").as_dicts()
    assert [(r["DeviceId"], r["ReadingId"]) for r in latest] == [
        ("drv-01", "drv-01:5"),
        ("drv-02", "drv-02:2"),
    ]
    assert [{k: r[k] for k in e} for r, e in zip(latest, expected, strict=True)] == expected
    columns = kusto.query("LatestValidReadings | take 1").columns
    assert columns[:2] == ("DeviceId", "Timestamp")  # Kusto's order for arg_max(Timestamp, *)


def _schema_with(tmp_path: Path, function: str, old: str, new: str) -> KustoSchema:
    """The repository's .kql files with one function edited (a bad function deploy)."""
    root = tmp_path / "kusto"
    shutil.copytree(Path(load_schema().root), root, ignore=shutil.ignore_patterns("tests", "src"))
    path = root / "functions" / f"{function}.kql"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_schema(root)


def test_failing_non_transactional_policy_loses_only_its_own_target(tmp_path: Path) -> None:
    # PowerMinutes' policy is not transactional: when its query fails at ingestion (here
    # a function whose output no longer fits the target's column types), ADX ingests the
    # batch into the source and the other targets and the ingestion succeeds
    # (update-policy, Transactional settings); only PowerMinutes misses the batch.
    broken = _schema_with(
        tmp_path,
        "AggregatePowerMinutes",
        "Readings = count()",
        'Readings = strcat("n", tostring(count()))',
    )
    with LocalKusto(schema=broken) as engine:
        result = engine.ingest([reading(0, current=30.0), reading(1), reading(2, voltage=math.nan)])
        assert result.raw == 3
        assert result.events == 1
        assert result.quarantined == 1
        assert set(result.failures) == {"PowerMinutes"}
        assert "PowerMinutes" not in result.targets
        counts = {t: engine.query(f"{t} | count").rows[0][0] for t in broken.tables}
        assert counts == {
            "RawReadings": 3,
            "PowerEvents": 1,
            "QuarantinedReadings": 1,
            "PowerMinutes": 0,
        }
        # The next batch is stored the same way; nothing of the first is replayed twice.
        assert engine.ingest([reading(3)]).raw == 1
        assert engine.query("RawReadings | count").rows == [(4,)]


def test_failing_transactional_policy_in_a_function_stores_nothing(tmp_path: Path) -> None:
    # The detection policy is transactional: a bad detection deploy fails the ingestion,
    # so data reaches neither RawReadings nor any target (replay: docs/design.md 3.1).
    broken = _schema_with(
        tmp_path,
        "DetectPowerEvents",
        "| extend ExcessW = PowerW - ThresholdW",
        '| extend ExcessW = strcat("x", DeviceId)',
    )
    with LocalKusto(schema=broken) as engine:
        with pytest.raises(IngestError, match="nothing stored"):
            engine.ingest([reading(0, current=30.0), reading(1)])
        counts = [engine.query(f"{t} | count").rows[0][0] for t in broken.tables]
        assert counts == [0, 0, 0, 0]


def test_a_batch_that_would_duplicate_a_deduped_key_stores_nothing(schema: KustoSchema) -> None:
    # The unique index under PowerEventsDeduped turns "no duplicates reach PowerEvents"
    # into a checked invariant: a policy fanning a reading out twice fails the batch.
    engine = LocalKusto(schema=schema)
    index = next(i for i, p in enumerate(engine._policies) if p.table == "PowerEvents")
    sql = engine._policies[index].sql
    engine._policies[index] = dataclasses.replace(
        engine._policies[index], sql=f"{sql} UNION ALL {sql}"
    )
    with pytest.raises(IngestError, match="nothing stored"):
        engine.ingest([reading(0, current=30.0)])
    assert [engine.query(f"{t} | count").rows[0][0] for t in schema.tables] == [0, 0, 0, 0]
    engine.close()


def test_query_errors_are_clear(kusto: LocalKusto) -> None:
    with pytest.raises(QueryError, match="cannot run"):
        kusto.query("RawReadings | scan with (step s: true;)")
    with pytest.raises(QueryError, match="afterTime"):
        kusto.query("declare query_parameters(afterTime:datetime); print afterTime")


def test_results_are_utc_and_nan_free(kusto: LocalKusto, schema: KustoSchema) -> None:
    kusto.ingest([reading(0, current=30.0)])
    [event] = events(kusto, schema)
    assert event["Timestamp"].tzinfo is dt.UTC
    assert not any(isinstance(v, float) and math.isnan(v) for v in event.values())


def test_queries_run_while_ingesting(kusto: LocalKusto, schema: KustoSchema) -> None:
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(20):
                events(kusto, schema, maxRows=5)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for batch in range(10):
        kusto.ingest([reading(batch * 10 + i, current=30.0) for i in range(10)])
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(events(kusto, schema)) == 100


def test_database_file_persists(tmp_path: Any, schema: KustoSchema) -> None:
    path = tmp_path / "kusto.duckdb"
    with LocalKusto(path, schema=schema) as engine:
        engine.ingest([reading(0, current=30.0)])
    with LocalKusto(path, schema=schema) as engine:
        assert engine.ingest([reading(0, current=30.0)]).duplicates == 1
        assert len(events(engine, schema)) == 1


def test_a_file_holding_duplicate_keys_is_refused_with_a_clear_error(
    tmp_path: Any, schema: KustoSchema
) -> None:
    path = tmp_path / "kusto.duckdb"
    with LocalKusto(path, schema=schema) as engine:
        engine.ingest([reading(0, current=30.0)])
    # A file written without the unique index (by hand, or by an older version).
    with duckdb.connect(str(path)) as raw:
        [(index, table)] = raw.execute(
            "SELECT index_name, table_name FROM duckdb_indexes()"
        ).fetchall()
        assert table == "PowerEvents"  # what PowerEventsDeduped reads
        raw.execute(f'DROP INDEX "{index}"')
        raw.execute("INSERT INTO PowerEvents SELECT * FROM PowerEvents")
    with pytest.raises(StorageError, match=r"kusto\.duckdb: PowerEvents holds more than one row"):
        LocalKusto(path, schema=schema)
    with duckdb.connect(str(path)) as raw:  # closed again, and left as it was
        assert raw.execute("SELECT count(*) FROM PowerEvents").fetchone() == (2,)


def test_every_datetime_column_comes_back_in_utc_and_nothing_else_changes(
    kusto: LocalKusto,
) -> None:
    result = kusto.query(
        'print n = 1, none = datetime(null), at = datetime(2026-01-01 10:00), s = "x", d = 1m'
    )
    assert result.rows == [
        (1, None, dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC), "x", dt.timedelta(minutes=1))
    ]
    assert result.rows[0][2].tzinfo is dt.UTC


def test_values_round_trip_exactly(kusto: LocalKusto) -> None:
    odd = reading(0, device="drv'\"é,;", voltage=230.123456789012, current=4.000000000001)
    odd["ts"] = "2026-11-25T19:00:00.123456+01:00"  # an offset is converted to UTC
    kusto.ingest([odd])
    [row] = kusto.query("RawReadings").as_dicts()
    assert row["DeviceId"] == "drv'\"é,;"
    assert (row["Voltage"], row["Current"]) == (230.123456789012, 4.000000000001)
    assert row["Timestamp"] == dt.datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=dt.UTC)
    assert row["Seq"] == 0
    assert row["IngestionTime"] == NOW


def test_cached_translation_rebinds_values_and_clock(schema: KustoSchema) -> None:
    clock = [NOW]
    with LocalKusto(schema=schema, now=lambda: clock[0]) as engine:
        engine.ingest([reading(0, device=d, at=NOW - dt.timedelta(minutes=1)) for d in ("a", "b")])
        status = schema.call_query("DeviceStatus")
        assert {r["Status"] for r in engine.query(status).as_dicts()} == {"normal"}
        clock[0] = NOW + dt.timedelta(hours=1)  # same text, cached SQL, new now()
        assert {r["Status"] for r in engine.query(status).as_dicts()} == {"silent"}
        series = schema.call_query("PowerSeries")
        window = {"fromTime": NOW - dt.timedelta(hours=1), "toTime": NOW}
        for device, expected in (("a", ["a"]), ("b", ["b"]), ("", ["a", "b"])):
            rows = engine.query(series, {**window, "deviceId": device}).as_dicts()
            assert [r["DeviceId"] for r in rows] == expected


def test_omitted_parameters_take_their_declared_defaults(
    kusto: LocalKusto, schema: KustoSchema
) -> None:
    kusto.ingest([reading(i, current=30.0) for i in range(3)])
    # afterTime defaults to datetime(null), maxRows to 100, deviceId to "" (as in Kusto).
    rows = kusto.query(schema.call_query("CriticalEvents"), DAY).as_dicts()
    assert len(rows) == 3
    with pytest.raises(QueryError, match="fromTime"):
        kusto.query(schema.call_query("CriticalEvents"), {"toTime": NOW})


def test_rows_without_reading_id_are_all_kept_and_quarantined(kusto: LocalKusto) -> None:
    first, second = reading(0), reading(1)
    first["reading_id"] = None
    del second["reading_id"]
    result = kusto.ingest([first, second])
    assert (result.raw, result.duplicates, result.quarantined) == (2, 0, 2)
    reasons = {r["Reason"] for r in kusto.query("QuarantinedReadings").as_dicts()}
    assert reasons == {"missing ReadingId"}


def test_translation_cache_is_hit_and_values_still_matter(schema: KustoSchema) -> None:
    with LocalKusto(schema=schema, now=lambda: NOW) as engine:
        engine.ingest(
            [reading(i, device=d, current=30.0) for i in range(3) for d in ("drv-01", "drv-02")]
        )
        text = schema.call_query("CriticalEvents")
        before = engine.cache_stats()
        answers = {
            device: [r["DeviceId"] for r in events(engine, schema, deviceId=device)]
            for device in ("drv-01", "drv-02", "", "drv-99")
        }
        after = engine.cache_stats()
        # One translation of the text, then three hits: the SQL is reused...
        assert (after.misses - before.misses, after.hits - before.hits) == (1, 3)
        # ...and each call binds its own values.
        assert answers == {
            "drv-01": ["drv-01"] * 3,
            "drv-02": ["drv-02"] * 3,
            "": ["drv-02", "drv-01"] * 3,
            "drv-99": [],
        }
        sql, bound = engine.translate(text, {**DAY, "deviceId": "drv-01"})
        assert "drv-01" not in sql
        assert "drv-01" in bound.values()
        capped = engine.query(text, {**DAY, "maxRows": 2}).rows
        assert len(capped) == 2
        assert engine.cache_stats().misses == after.misses


def test_translation_cache_evicts_least_recently_used(schema: KustoSchema) -> None:
    with LocalKusto(schema=schema) as engine:
        first = "print a = 0"
        engine.query(first)
        for n in range(1, 300):
            engine.query(f"print a = {n}")
            engine.query(first)  # kept hot, never evicted
        stats = engine.cache_stats()
        assert stats.size == 256
        assert stats.misses == 300  # `first` translated once


def test_reader_cursors_are_reused_per_thread_and_pruned(kusto: LocalKusto) -> None:
    def ask() -> None:
        assert kusto.query("print a = 1").rows == [(1,)]

    ask()
    ask()
    assert kusto.reader_count() == 1  # one cursor for this thread, reused
    for _ in range(3):  # short-lived threads, as a pool retires idle workers
        worker = threading.Thread(target=ask)
        worker.start()
        worker.join()
    # Each new thread's cursor replaced the finished ones: no growth with thread churn.
    assert kusto.reader_count() == 2
    with pytest.raises(QueryError):
        kusto.query("RawReadings | where NoSuchColumn == 1")
    ask()  # a failed query leaves the thread a working cursor


def test_a_text_is_compiled_once_and_binds_each_call(
    kusto: LocalKusto, schema: KustoSchema
) -> None:
    """The compiled statement is syntax only: values and data are fresh on every call."""
    kusto.ingest([reading(0, voltage=250.0, current=30.0)])
    assert [e["ReadingId"] for e in events(kusto, schema)] == ["drv-01:0"]
    misses = kusto.cache_stats().misses
    kusto.ingest([reading(1, voltage=250.0, current=30.0), reading(2, device="drv-02")])
    # The same text again, other values: not compiled again, the rows committed since seen.
    assert [e["ReadingId"] for e in events(kusto, schema)] == ["drv-01:1", "drv-01:0"]
    assert [e["ReadingId"] for e in events(kusto, schema, deviceId="drv-02")] == []
    assert [e["ReadingId"] for e in events(kusto, schema, maxRows=1)] == ["drv-01:1"]
    assert kusto.cache_stats().misses == misses


def test_one_compiled_text_serves_every_thread_at_once(
    kusto: LocalKusto, schema: KustoSchema
) -> None:
    """Threads run the same parsed statement on their own cursors, each with its values."""
    devices = [f"drv-{n:02d}" for n in range(1, 7)]
    kusto.ingest(
        [reading(n, device=d, voltage=250.0, current=30.0) for d in devices for n in range(3)]
    )
    events(kusto, schema)  # compiled here, on the main thread's cursor
    misses = kusto.cache_stats().misses
    start = threading.Barrier(len(devices))
    seen: dict[str, set[str]] = {}

    def ask(device: str) -> None:
        start.wait()
        answers = {
            e["ReadingId"] for _ in range(25) for e in events(kusto, schema, deviceId=device)
        }
        seen[device] = answers

    workers = [threading.Thread(target=ask, args=(d,)) for d in devices]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert seen == {d: {f"{d}:{n}" for n in range(3)} for d in devices}
    assert kusto.cache_stats().misses == misses


def test_a_sql_script_runs_as_text_and_a_statement_on_any_cursor() -> None:
    connection = duckdb.connect()
    readers = Readers(connection)
    reader = readers.current()
    # A text of two statements is not one parse tree: it runs as a script, as DuckDB runs
    # any text.
    script = "SELECT 1; SELECT 2 AS y"
    assert reader.parse(script) == script
    assert reader.execute(script, {}).fetchall() == [(2,)]
    statement = reader.parse("SELECT 40 + $two AS x")
    assert isinstance(statement, duckdb.Statement)
    answers: list[Any] = []
    other = threading.Thread(
        target=lambda: answers.append(readers.current().execute(statement, {"two": 2}).fetchall())
    )
    other.start()
    other.join()
    assert answers == [[(42,)]]
    assert reader.execute(statement, {"two": 3}).fetchall() == [(43,)]
    readers.close()
    connection.close()
