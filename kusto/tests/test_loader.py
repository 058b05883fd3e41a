"""The loader parses every .kql file into typed objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from powerwatch_kusto import KustoSchema, ScriptError, load_schema


def test_tables_and_columns(schema: KustoSchema) -> None:
    raw = schema.tables["RawReadings"]
    assert raw.column_names == (
        "DeviceId",
        "Timestamp",
        "Voltage",
        "Current",
        "Seq",
        "ReadingId",
        "ReceivedAt",
        "EnqueuedTime",
        "IngestionTime",
    )
    events = schema.tables["PowerEvents"].column_names
    assert events == (*raw.column_names, "PowerW", "ThresholdW", "ExcessW")
    assert schema.tables["QuarantinedReadings"].column_names == (*raw.column_names, "Reason")
    assert raw.docstring
    assert raw.folder == "Powerwatch"


def test_functions_have_signature_folder_and_docstring(schema: KustoSchema) -> None:
    events = schema.functions["CriticalEvents"]
    assert [(p.name, p.kql_type) for p in events.parameters] == [
        ("fromTime", "datetime"),
        ("toTime", "datetime"),
        ("deviceId", "string"),
        ("maxRows", "long"),
        ("afterTime", "datetime"),
        ("afterReadingId", "string"),
    ]
    assert events.parameters[4].default == "datetime(null)"
    for fn in schema.functions.values():
        assert fn.folder.startswith("Powerwatch/"), fn.name
        assert len(fn.docstring) > 40, fn.name
    detect = schema.functions["DetectPowerEvents"]
    assert detect.dependencies == {"ValidReadings", "DeviceThresholds"}


def test_call_query_declares_every_parameter(schema: KustoSchema) -> None:
    assert schema.call_query("DeviceStatus") == (
        "declare query_parameters(silentAfter:timespan = 5m);\nDeviceStatus(silentAfter)"
    )
    assert schema.call_query("LatestReadings") == "LatestReadings()"


def test_views_and_policies(schema: KustoSchema) -> None:
    assert set(schema.views) == {"PowerEventsDeduped", "LatestValidReadings"}
    assert schema.views["LatestValidReadings"].source == "RawReadings"
    assert schema.views["PowerEventsDeduped"].lookback == "7d"
    assert [(p.table, p.query) for p in schema.update_policies] == [
        ("PowerEvents", "DetectPowerEvents()"),
        ("PowerMinutes", "AggregatePowerMinutes()"),
        ("QuarantinedReadings", "QuarantineReadings()"),
    ]


def test_unknown_command_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "Bad.kql").write_text(".drop table Everything\n")
    with pytest.raises(ScriptError, match=r"Bad\.kql: unrecognised command: \.drop table"):
        load_schema(tmp_path)


def test_function_cycle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "A.kql").write_text(".create-or-alter function A() { B() }\n")
    (tmp_path / "B.kql").write_text(".create-or-alter function B() { A() }\n")
    with pytest.raises(ScriptError, match="cycle"):
        load_schema(tmp_path)


def test_backfill_without_async_is_refused(tmp_path: Path) -> None:
    # materialized-view-create: with backfill "the create command must be async".
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "V.kql").write_text(
        ".create-or-alter materialized-view with (backfill = true) V on table T\n"
        "{\n    T | summarize count() by K\n}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScriptError, match=r"backfill = true needs `\.create async`"):
        load_schema(tmp_path)
