"""Deploy and bundle. The cluster is faked ONLY at the narrowest boundary: the object whose
execute_mgmt(database, command) azure.kusto.data.KustoClient would run (no ADX here)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from powerwatch_kusto import DeployError, KustoSchema
from powerwatch_kusto.bundle import main as bundle_main
from powerwatch_kusto.bundle import render_bundle
from powerwatch_kusto.deploy import deploy
from powerwatch_kusto.deploy import main as deploy_main
from powerwatch_kusto.loader import split_commands


class RecordingClient:
    """Stands in for KustoClient.execute_mgmt; optionally fails on one command."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def execute_mgmt(self, database: str, query: str) -> None:
        if self.fail_on and self.fail_on in query:
            raise RuntimeError("Semantic error: simulated")
        self.calls.append((database, query))


def stage_of(command: str) -> str:
    if command.startswith(".create-merge table") or "ingestion json mapping" in command:
        return "tables"
    if command.startswith(".create-or-alter function"):
        return "functions"
    if command.startswith(".alter table"):
        return "policies"
    if command.startswith(".create ifnotexists materialized-view"):
        return "views"
    return "view-policies"


def test_deploy_runs_every_command_in_dependency_order(schema: KustoSchema) -> None:
    client = RecordingClient()
    deploy(schema, client, "powerwatch", out=io.StringIO())
    commands = [q for _, q in client.calls]
    assert all(db == "powerwatch" for db, _ in client.calls)
    assert len(commands) == len(schema.scripts) == 39
    order = ["tables", "views", "view-policies", "functions", "policies"]
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
            ".create ifnotexists",
        }, head


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
    assert "would apply 39 commands" in out


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
