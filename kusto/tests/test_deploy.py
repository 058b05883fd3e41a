"""Deploy and bundle. The cluster is faked ONLY at the narrowest boundary: the object whose
execute_mgmt(database, command) azure.kusto.data.KustoClient would run (no ADX here). Its
answers to `.clear ... cache streamingingestion schema` are parsed by the SDK's own
KustoResponseDataSetV1 from the v1 JSON shape the docs give (NodeId, Status)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from azure.kusto.data.response import KustoResponseDataSetV1
from powerwatch_kusto import DeployError, KustoSchema
from powerwatch_kusto.analysis import analyze
from powerwatch_kusto.bundle import main as bundle_main
from powerwatch_kusto.bundle import render_bundle
from powerwatch_kusto.data_connection import CONSUMER_GROUP
from powerwatch_kusto.deploy import deploy, plan
from powerwatch_kusto.deploy import main as deploy_main
from powerwatch_kusto.loader import split_commands


def node_statuses(*statuses: str) -> KustoResponseDataSetV1:
    """What a cluster answers to a cache clear: one row per node."""
    columns = [
        {"ColumnName": name, "DataType": "String", "ColumnType": "string"}
        for name in ("NodeId", "Status")
    ]
    rows = [[f"node{i}", status] for i, status in enumerate(statuses)]
    return KustoResponseDataSetV1(
        {"Tables": [{"TableName": "Table_0", "Columns": columns, "Rows": rows}]}
    )


def shown_views(views: dict[str, str]) -> KustoResponseDataSetV1:
    """What a cluster answers to `.show materialized-views` (Name, Query, ... per view)."""
    columns = [
        {"ColumnName": name, "DataType": "String", "ColumnType": "string"}
        for name in ("Name", "SourceTable", "Query")
    ]
    rows = [[name, "PowerEvents", query] for name, query in views.items()]
    return KustoResponseDataSetV1(
        {"Tables": [{"TableName": "Table_0", "Columns": columns, "Rows": rows}]}
    )


class RecordingClient:
    """Stands in for KustoClient.execute_mgmt; optionally fails on one command, answers
    cache clears with the node statuses queued in `clears` (else all Succeeded) and
    `.show materialized-views` with the views in `views` (name -> query)."""

    def __init__(
        self,
        fail_on: str | None = None,
        clears: list[tuple[str, ...]] | None = None,
        views: dict[str, str] | None = None,
    ):
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on
        self.clears = list(clears or [])
        self.views = dict(views or {})

    def execute_mgmt(self, database: str, query: str) -> Any:
        if self.fail_on and self.fail_on in query:
            raise RuntimeError("Semantic error: simulated")
        self.calls.append((database, query))
        if query.startswith(".clear"):
            return node_statuses(*(self.clears.pop(0) if self.clears else ("Succeeded",) * 2))
        if query == ".show materialized-views":
            return shown_views(self.views)
        return None


def stage_of(command: str) -> str:
    if command.startswith(".alter-merge database"):
        return "database"
    if command.startswith(".clear table"):
        return "streaming-cache"
    if command.startswith(".create-merge table") or "ingestion json mapping" in command:
        return "tables"
    if command.startswith(".create-or-alter function"):
        return "functions"
    if command.startswith(".alter table"):
        return "policies"
    if command.startswith((".create-or-alter materialized-view", ".show materialized-views")):
        return "views"
    return "view-policies"


def test_deploy_runs_every_command_in_dependency_order(schema: KustoSchema) -> None:
    client = RecordingClient()
    deploy(schema, client, "powerwatch", out=io.StringIO())
    commands = [q for _, q in client.calls]
    assert all(db == "powerwatch" for db, _ in client.calls)
    # + the managed-identity policy first, the view drift check before the first view and
    # one cache clear per streaming table last.
    assert len(schema.scripts) == 38
    assert len(commands) == len(schema.scripts) + 3
    first_view = next(i for i, c in enumerate(commands) if "materialized-view " in c)
    assert commands[first_view - 1] == ".show materialized-views"
    order = ["database", "tables", "views", "view-policies", "functions", "policies"]
    order.append("streaming-cache")
    stages = [order.index(stage_of(c)) for c in commands]
    assert stages == sorted(stages)
    # A function is created after every function its body calls.
    created = [c.split("\n")[1].split("(")[0] for c in commands if stage_of(c) == "functions"]
    for name in created:
        for dependency in schema.functions[name].dependencies:
            assert created.index(dependency) < created.index(name)
    # Update policies name functions that already exist when they are applied.
    assert created.index("DetectPowerEvents") < len(created)


def test_every_command_is_idempotent(schema: KustoSchema) -> None:
    for script in schema.scripts:
        head = script.command.split()[0] + " " + script.command.split()[1]
        assert head in {
            ".create-merge table",
            ".create-or-alter table",
            ".create-or-alter function",
            ".alter table",
            ".alter materialized-view",
            ".create-or-alter materialized-view",
        }, head


def test_views_are_created_or_altered_without_backfill(schema: KustoSchema) -> None:
    # Without backfill a view is created empty and queryable at once, so no `.create
    # async` and no wait on `.show operations` is needed (materialized-view-create);
    # `.create-or-alter` brings an edited query to a cluster that has the view
    # (materialized-view-create-or-alter).
    for view in schema.views.values():
        assert view.script.command.startswith(".create-or-alter materialized-view with (")
        assert "backfill" not in view.script.command


def test_dry_run_prints_and_runs_nothing(
    schema: KustoSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_client(cluster: str) -> RecordingClient:
        raise AssertionError("dry run must not connect")

    assert (
        deploy_main(
            ["--cluster", "https://c.kusto.windows.net", "--database", "db", "--dry-run"],
            client_factory=no_client,
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "[tables] kusto/tables/RawReadings.kql: .create-merge table RawReadings (" in out
    assert "would apply 41 commands" in out


def test_failure_names_the_file_and_command(
    schema: KustoSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    client = RecordingClient(fail_on="PowerIncidents(")
    with pytest.raises(
        DeployError,
        match=r"kusto/functions/PowerIncidents\.kql: command failed: "
        r"\.create-or-alter function .*simulated",
    ):
        deploy(schema, client, "db", out=io.StringIO())
    assert (
        deploy_main(
            ["--cluster", "https://c", "--database", "db"],
            client_factory=lambda _: RecordingClient(fail_on="PowerIncidents("),
        )
        == 1
    )
    assert "PowerIncidents.kql" in capsys.readouterr().err


def test_identity_policy_first_and_cache_clear_last(schema: KustoSchema) -> None:
    client = RecordingClient()
    deploy(schema, client, "powerwatch", out=io.StringIO())
    first, last = client.calls[0][1], client.calls[-1][1]
    head, _, rest = first.partition("```")
    assert head == ".alter-merge database powerwatch policy managed_identity "
    assert json.loads(rest.removesuffix("```")) == [
        {"ObjectId": "system", "AllowedUsages": "DataConnection"}
    ]
    # The documented syntax (clear-schema-cache-command), after every policy change.
    assert last == ".clear table RawReadings cache streamingingestion schema"
    assert [s.source for s in plan(schema, "db")][-1] == "deploy.py"


def test_cache_clear_is_repeated_until_every_node_succeeds(schema: KustoSchema) -> None:
    slept: list[float] = []
    client = RecordingClient(clears=[("Succeeded", "Failed"), ("Succeeded", "Succeeded")])
    deploy(schema, client, "db", out=io.StringIO(), sleep=slept.append)
    clears = [q for _, q in client.calls if q.startswith(".clear")]
    assert len(clears) == 2
    assert slept == [2.0]


def test_cache_clear_gives_up_naming_the_failing_node(schema: KustoSchema) -> None:
    client = RecordingClient(clears=[("Succeeded", "Failed")] * 5)
    with pytest.raises(DeployError, match=r"nodes still failing after 5 attempts: node1"):
        deploy(schema, client, "db", out=io.StringIO(), sleep=lambda _: None)


def test_plan_without_identity_policy(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--cluster", "https://c", "--database", "db", "--dry-run", "--skip-identity-policy"]
    assert deploy_main(argv) == 0
    out = capsys.readouterr().out
    assert "managed_identity" not in out
    assert "would apply 40 commands" in out


def test_dry_run_ends_with_the_data_connection_spec(
    schema: KustoSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy_main(["--cluster", "https://c", "--database", "db", "--dry-run"]) == 0
    out = capsys.readouterr().out
    spec = json.loads(
        out.split("cluster and data connection settings\n", 1)[1].rsplit("\nwould", 1)[0]
    )
    connection = spec["dataConnection"]["properties"]
    mapping = schema.mappings[connection["mappingRuleName"]]
    assert connection["tableName"] == mapping.table == "RawReadings"
    # One record per event, so the system property reaches every row; no compression,
    # which would stop system properties (ingest-data-event-hub-overview).
    assert connection["dataFormat"] == "JSON"
    assert connection["compression"] == "None"
    assert connection["eventSystemProperties"] == ["x-opt-enqueued-time"]
    assert connection["consumerGroup"] == CONSUMER_GROUP != "$Default"
    assert spec["cluster"]["properties"]["enableStreamingIngest"] is True
    assert spec["cluster"]["properties"]["publicNetworkAccess"] == "Disabled"


@pytest.mark.slow
def test_generated_commands_pass_the_analyzer(schema: KustoSchema) -> None:
    if (
        shutil.which("node") is None
        or not (schema.root.parent / "node_modules" / "@kusto").exists()
    ):
        pytest.skip("node or @kusto/language-service-next missing: run `make node`")
    # "Powerwatch": the database the analyzer's symbol table names (analysis.py).
    # The commands deploy.py writes itself (the .kql files are checked in test_analyzer).
    steps = [s for s in plan(schema, "Powerwatch") if s.source == "deploy.py"]
    generated = {f"{s.stage}: {s.command}": s.command for s in steps}
    assert [s.stage for s in steps] == ["database", "views", "streaming-cache"]
    controls = {
        # The two-word spelling is refused ("Expected: streamingingestion"), and so is an
        # unknown table: the analyzer checks these commands, not only their first word.
        "control: two words": ".clear table RawReadings cache streaming ingestion schema",
        "control: no such table": ".clear table Nope cache streamingingestion schema",
    }
    results = analyze(schema, {**generated, **controls})
    assert all(results[key].errors for key in controls)
    failing = [a.describe() for key, a in results.items() if a.errors and key not in controls]
    assert not failing, "\n".join(failing)


def test_bundle_has_banners_and_every_command(schema: KustoSchema, tmp_path: Path) -> None:
    text = render_bundle(schema)
    chunks = text.strip().split("\n\n")
    assert len(chunks) == len(schema.scripts)
    for chunk, script in zip(chunks, schema.scripts, strict=True):
        banner, _, command = chunk.partition("\n")
        assert banner == f"// from kusto/{script.path.relative_to(schema.root).as_posix()}"
        assert command == script.command
    # The bundle splits back into the same commands (what the database script runner does).
    assert split_commands(text) == [s.command for s in schema.scripts]
    out = tmp_path / "build" / "powerwatch.kql"
    assert bundle_main(["-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == text


def test_an_alterable_view_change_deploys(schema: KustoSchema) -> None:
    # Same group-by, other operators: `.create-or-alter` applies it (materialized-view-alter).
    old = "PowerEvents | where PowerW > 0 | summarize take_any(*) by DeviceId, Timestamp, ReadingId"
    client = RecordingClient(views={"PowerEventsDeduped": old, "SomethingElse": "T | count"})
    deploy(schema, client, "db", out=io.StringIO())
    assert any(q.startswith(".create-or-alter materialized-view") for _, q in client.calls)


def test_a_changed_group_by_stops_the_deploy_and_says_what_to_do(schema: KustoSchema) -> None:
    # "Changes to the materialized view group by expressions aren't supported"
    # (materialized-view-alter): the old view keyed on ReadingId alone.
    client = RecordingClient(
        views={"PowerEventsDeduped": "PowerEvents\n| summarize take_any(*) by ReadingId"}
    )
    with pytest.raises(DeployError) as caught:
        deploy(schema, client, "db", out=io.StringIO())
    message = str(caught.value)
    assert "PowerEventsDeduped: the cluster's view groups by (ReadingId)" in message
    assert "by (DeviceId, Timestamp, ReadingId)" in message
    assert ".drop materialized-view PowerEventsDeduped" in message
    assert ".show operations" in message
    # Nothing of the views or later stages was touched.
    assert not any("materialized-view " in q for _, q in client.calls)
