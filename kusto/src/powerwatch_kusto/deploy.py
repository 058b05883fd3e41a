"""Apply the .kql scripts to an ADX database in dependency order, idempotently.

    python -m powerwatch_kusto.deploy --cluster https://<c>.<region>.kusto.windows.net \
        --database powerwatch [--dry-run]

Order: the database's managed-identity policy -> tables (+ mapping) -> a drift check of
the materialized views already on the cluster (`.show materialized-views`: a group-by
change cannot be altered, so deploy stops and says what to do) -> materialized views
(`.create-or-alter`, no backfill, so nothing to wait for) -> view policies -> functions
(callees first; they may read views) -> table policies -> clear the streaming-ingestion
schema cache of every streaming table. Every command is idempotent, so a re-run is safe.
The dry run ends with the data connection and cluster settings the IaC must set (not
Kusto commands). Credentials:
azure.identity.DefaultAzureCredential (CLI login, managed or workload identity).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from .data_connection import data_connection_spec, streaming_tables
from .errors import DeployError
from .loader import KustoSchema, load_schema
from .model import group_by_keys

#: Attempts of a cache clear whose answer still names a failed node.
CLEAR_ATTEMPTS = 5
CLEAR_BACKOFF_S = 2.0


class ManagementClient(Protocol):
    """The one method deploy needs of azure.kusto.data.KustoClient."""

    def execute_mgmt(self, database: str, query: str) -> Any: ...


@dataclass(frozen=True)
class Step:
    """One management command of the deploy, with where it comes from."""

    stage: str
    source: str
    command: str
    #: `.clear ... cache streamingingestion schema` answers one row per node; the docs
    #: say to repeat it "until successful and all rows in the command output indicate
    #: success" (streaming-ingestion-schema-changes).
    until_all_nodes_succeed: bool = False
    #: `.show materialized-views`: compared with the files before any view is touched.
    view_drift_check: bool = False


def identity_policy_command(database: str, object_id: str = "system") -> str:
    """Allow the cluster's managed identity to run the Event Hubs data connection.

    `system` is the documented keyword for the cluster's system-assigned identity
    (managed-identity-policy); `.alter-merge` adds the usage without dropping others.
    Needs AllDatabasesAdmin (alter-merge-managed-identity-policy-command).
    """
    entry = json.dumps([{"ObjectId": object_id, "AllowedUsages": "DataConnection"}])
    return f".alter-merge database {database} policy managed_identity ```{entry}```"


def plan(schema: KustoSchema, database: str, identity: str | None = "system") -> list[Step]:
    """Every command of a deploy, in order."""
    steps = []
    if identity is not None:
        steps.append(Step("database", "deploy.py", identity_policy_command(database, identity)))
    scripts = [Step(s.stage, _shown(schema, s.path), s.command) for s in schema.scripts]
    first_view = next((i for i, s in enumerate(scripts) if s.stage == "views"), len(scripts))
    if schema.views:
        # `.create-or-alter materialized-view` brings an edited query to an existing view,
        # but "changes to the materialized view group by expressions aren't supported"
        # (materialized-view-alter, limitations): find those before changing anything.
        scripts.insert(
            first_view,
            Step("views", "deploy.py", ".show materialized-views", view_drift_check=True),
        )
    steps += scripts
    # Nodes cache the schema of streaming tables, update policies included; without the
    # clear, streaming ingestion may run the old policy for minutes after the deploy
    # (https://learn.microsoft.com/kusto/management/data-ingestion/streaming-ingestion-schema-changes).
    steps += [
        Step(
            "streaming-cache",
            "deploy.py",
            f".clear table {table} cache streamingingestion schema",
            until_all_nodes_succeed=True,
        )
        for table in streaming_tables(schema)
    ]
    return steps


def view_drift(schema: KustoSchema, response: Any) -> list[str]:
    """What `.create-or-alter materialized-view` cannot apply to the views on the cluster."""
    problems = []
    for row in response.primary_results[0]:
        name = str(row["Name"])
        view = schema.views.get(name)
        if view is None:
            continue
        deployed, wanted = group_by_keys(str(row["Query"])), view.keys
        if deployed != wanted:
            problems.append(
                f"{name}: the cluster's view groups by ({', '.join(deployed)}), "
                f"{view.script.path.name} by ({', '.join(wanted)}); a group-by change cannot "
                f"be altered (materialized-view-alter). Run `.drop materialized-view {name}` "
                f"(its data goes; the source table keeps the rows) and deploy again; to "
                f"rebuild its history instead, create it once with `.create async "
                f"materialized-view with (backfill = true) ...` and wait for `.show "
                f"operations <OperationId>` to report Completed before deploying "
                f"(kusto/README.md, Changing a view)"
            )
    return problems


def deploy(
    schema: KustoSchema,
    client: ManagementClient | None,
    database: str,
    dry_run: bool = False,
    out: TextIO | None = None,
    identity: str | None = "system",
    sleep: Callable[[float], None] = time.sleep,
) -> list[Step]:
    """Run every step in order; stop at the first failure with a DeployError naming it."""
    out = out if out is not None else sys.stdout
    applied = []
    for step in plan(schema, database, identity):
        first_line = step.command.splitlines()[0]
        print(f"[{step.stage}] {step.source}: {first_line}", file=out)
        if dry_run:
            print(step.command + "\n", file=out)
        else:
            if client is None:
                raise DeployError("no client: pass one, or use dry_run")
            _run(client, database, step, sleep, schema)
        applied.append(step)
    if dry_run:
        spec = json.dumps(data_connection_spec(schema), indent=2)
        print(f"[iac] not a Kusto command: cluster and data connection settings\n{spec}", file=out)
    return applied


def _run(
    client: ManagementClient,
    database: str,
    step: Step,
    sleep: Callable[[float], None],
    schema: KustoSchema,
) -> None:
    first_line = step.command.splitlines()[0][:120]
    for attempt in range(1, CLEAR_ATTEMPTS + 1):
        try:
            response = client.execute_mgmt(database, step.command)
        except Exception as error:  # the SDK raises several unrelated types
            raise DeployError(f"{step.source}: command failed: {first_line}: {error}") from error
        if step.view_drift_check:
            problems = view_drift(schema, response)
            if problems:
                raise DeployError("; ".join(problems))
            return
        if not step.until_all_nodes_succeed:
            return
        failed = _failed_nodes(response)
        if not failed:
            return
        if attempt == CLEAR_ATTEMPTS:
            raise DeployError(
                f"{step.source}: {first_line}: nodes still failing after {attempt} attempts: "
                + ", ".join(failed)
            )
        sleep(CLEAR_BACKOFF_S * attempt)


def _failed_nodes(response: Any) -> list[str]:
    """NodeIds whose Status is not Succeeded (clear-schema-cache-command: NodeId, Status)."""
    rows = response.primary_results[0]
    return [str(row["NodeId"]) for row in rows if str(row["Status"]) != "Succeeded"]


def connect(cluster: str) -> ManagementClient:
    """A KustoClient authenticated with DefaultAzureCredential (Entra ID)."""
    from azure.identity import DefaultAzureCredential
    from azure.kusto.data import KustoClient, KustoConnectionStringBuilder

    builder = KustoConnectionStringBuilder.with_azure_token_credential(
        cluster, DefaultAzureCredential()
    )
    client: ManagementClient = KustoClient(builder)
    return client


def _shown(schema: KustoSchema, path: Path) -> str:
    try:
        return path.relative_to(schema.root.parent).as_posix()
    except ValueError:
        return str(path)


def main(
    argv: list[str] | None = None,
    client_factory: Callable[[str], ManagementClient] = connect,
) -> int:
    parser = argparse.ArgumentParser(description="Deploy Powerwatch's KQL scripts to ADX.")
    parser.add_argument("--cluster", required=True, help="cluster URI, https://...")
    parser.add_argument("--database", required=True)
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    parser.add_argument("--root", type=Path, help="kusto/ directory (default: this repository's)")
    parser.add_argument(
        "--identity",
        default="system",
        help="object id of the managed identity the data connection uses (default: system, "
        "the cluster's system-assigned identity)",
    )
    parser.add_argument(
        "--skip-identity-policy",
        action="store_true",
        help="leave the managed-identity policy out (it needs AllDatabasesAdmin)",
    )
    args = parser.parse_args(argv)
    schema = load_schema(args.root)
    client = None if args.dry_run else client_factory(args.cluster)
    identity = None if args.skip_identity_policy else args.identity
    try:
        applied = deploy(schema, client, args.database, dry_run=args.dry_run, identity=identity)
    except DeployError as error:
        print(f"deploy failed: {error}", file=sys.stderr)
        return 1
    verb = "would apply" if args.dry_run else "applied"
    print(f"{verb} {len(applied)} commands to {args.cluster} / {args.database}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
