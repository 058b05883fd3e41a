"""Static checks with Microsoft's KQL analyzer (@kusto/language-service-next).

The database symbol is built from the loaded .create commands; every command, function
body, view query, update-policy Query (from the policy JSON), function call and dashboard tile
must analyze with zero errors.
"""

from __future__ import annotations

import re

import pytest
from powerwatch_kusto import KustoSchema
from powerwatch_kusto.analysis import Analysis

# One node process analyzes everything (~15 s, most of it the analyzer's start-up).
pytestmark = pytest.mark.slow


def test_every_text_analyzes_without_errors(analysis: dict[str, Analysis]) -> None:
    failing = [a.describe() for a in analysis.values() if a.errors and not a.id.startswith("typo:")]
    assert not failing, "\n".join(failing)


def test_the_check_covers_every_kind_of_text(
    analysis: dict[str, Analysis], schema: KustoSchema
) -> None:
    kinds = {key.split(":")[0].split(" ")[0] for key in analysis}
    assert {"command", "function", "api", "view", "update", "dashboard", "typo"} <= kinds
    # "api call: F": each stored function's call with its parameters (schema_items); the
    # API's own query texts are checked in tests/contracts/test_api_queries.py.
    assert len([k for k in analysis if k.startswith("command")]) == len(schema.scripts)
    assert {f"update policy query: {p.table}" for p in schema.update_policies} <= set(analysis)


def test_update_policy_output_matches_its_target_table(
    analysis: dict[str, Analysis], schema: KustoSchema
) -> None:
    for policy in schema.update_policies:
        columns = analysis[f"update policy query: {policy.table}"].columns
        target = schema.tables[policy.table].columns
        assert columns == tuple((c.name, c.kql_type) for c in target), policy.table


def test_api_calls_return_the_documented_columns(analysis: dict[str, Analysis]) -> None:
    incidents = analysis["api call: PowerIncidents"].columns
    assert incidents is not None
    assert [c for c, _ in incidents] == [
        "DeviceId",
        "StartTime",
        "EndTime",
        "Duration",
        "PeakPowerW",
        "ThresholdW",
        "EnergyOverWh",
        "Readings",
    ]


def test_mapping_json_names_real_columns(schema: KustoSchema) -> None:
    mapping = schema.mappings["RawReadings_mapping"]
    assert mapping.kind == "json"
    assert mapping.table == "RawReadings"
    columns = set(schema.tables[mapping.table].column_names)
    mapped = {e.column for e in mapping.entries}
    assert mapped <= columns
    assert {e.path for e in mapping.entries} >= {
        "$.device_id",
        "$.ts",
        "$.reading_id",
        "$.x-opt-enqueued-time",
    }


def test_policy_json_parses_and_names_real_objects(schema: KustoSchema) -> None:
    # Only detection is transactional: PowerMinutes or the quarantine report failing
    # must not stop detection (update-policy, Failures; docs/design.md section 3.1).
    transactional = {p.table for p in schema.update_policies if p.is_transactional}
    assert transactional == {"PowerEvents"}
    for policy in schema.update_policies:
        assert policy.is_enabled
        assert policy.source in schema.tables
        assert policy.table in schema.tables
        assert policy.query.removesuffix("()") in schema.functions
    for policy in schema.policies:
        known = schema.tables if policy.entity_kind == "table" else schema.views
        assert policy.entity in known, policy.script.path
    kinds = {(p.entity, p.kind) for p in schema.policies}
    for table in schema.tables:
        assert (table, "retention") in kinds
        assert (table, "caching") in kinds
    assert ("RawReadings", "streamingingestion") in kinds
    assert ("RawReadings", "ingestionbatching") in kinds


def test_checker_fails_on_a_column_typo(analysis: dict[str, Analysis]) -> None:
    assert not analysis["typo: control"].errors
    assert [e.code for e in analysis["typo: query"].errors] == ["KS142"]
    assert "Voltge" in analysis["typo: query"].errors[0].message
    body = analysis["typo: detection body"].errors
    assert body
    assert any("ThresholdWatts" in e.message for e in body)


def test_alert_query_reads_by_cursor_and_stays_out_of_update_policies(
    analysis: dict[str, Analysis], schema: KustoSchema
) -> None:
    alert = schema.functions["CriticalEventsAfterCursor"]
    # Ingestion order, not event time: a database cursor over PowerEvents.
    assert "cursor_after(afterCursor)" in alert.body
    assert "cursor_before_or_at(afterCursor)" in alert.body
    # No row cap: a truncated answer would move the caller's cursor past unseen rows.
    assert not re.search(r"\|\s*(take|limit|top)\b", alert.body)
    flags = {(p.entity, p.kind): p.value for p in schema.policies}
    assert flags[("PowerEvents", "ingestiontime")] is True
    # No update policy reaches it, directly or through the functions it calls.
    for policy in schema.update_policies:
        reached, todo = set(), [policy.query.removesuffix("()")]
        while todo:
            name = todo.pop()
            reached.add(name)
            todo.extend(schema.functions[name].dependencies - reached)
        assert alert.name not in reached, policy.table
    columns = analysis["api call: CriticalEventsAfterCursor"].columns
    assert columns == (
        ("DeviceId", "string"),
        ("Timestamp", "datetime"),
        ("ReadingId", "string"),
        ("PowerW", "real"),
        ("ThresholdW", "real"),
        ("ExcessW", "real"),
        ("IngestedAt", "datetime"),
    )
