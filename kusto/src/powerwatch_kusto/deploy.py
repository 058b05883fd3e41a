"""Apply the .kql scripts to an ADX database in dependency order, idempotently.

    python -m powerwatch_kusto.deploy --cluster https://<c>.<region>.kusto.windows.net \
        --database powerwatch [--dry-run]

Order: tables (+ mapping) -> materialized views -> view policies -> functions (callees
first; they may read views) -> table policies. Every command is idempotent, so a re-run is
safe. Credentials: azure.identity.DefaultAzureCredential (CLI login, managed or workload identity).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from .errors import DeployError
from .loader import KustoSchema, load_schema
from .model import Script


class ManagementClient(Protocol):
    """The one method deploy needs of azure.kusto.data.KustoClient."""

    def execute_mgmt(self, database: str, query: str) -> Any: ...


def deploy(
    schema: KustoSchema,
    client: ManagementClient | None,
    database: str,
    dry_run: bool = False,
    out: TextIO | None = None,
) -> list[Script]:
    """Run every script in order; stop at the first failure with a DeployError naming it."""
    out = out if out is not None else sys.stdout
    applied = []
    for script in schema.scripts:
        first_line = script.command.splitlines()[0]
        print(f"[{script.stage}] {_shown(schema, script)}: {first_line}", file=out)
        if dry_run:
            print(script.command + "\n", file=out)
        else:
            if client is None:
                raise DeployError("no client: pass one, or use dry_run")
            try:
                client.execute_mgmt(database, script.command)
            except Exception as error:  # the SDK raises several unrelated types
                raise DeployError(
                    f"{_shown(schema, script)}: command failed: {first_line[:120]}: {error}"
                ) from error
        applied.append(script)
    return applied


def connect(cluster: str) -> ManagementClient:
    """A KustoClient authenticated with DefaultAzureCredential (Entra ID)."""
    from azure.identity import DefaultAzureCredential
    from azure.kusto.data import KustoClient, KustoConnectionStringBuilder

    builder = KustoConnectionStringBuilder.with_azure_token_credential(
        cluster, DefaultAzureCredential()
    )
    client: ManagementClient = KustoClient(builder)
    return client


def _shown(schema: KustoSchema, script: Script) -> str:
    try:
        return script.path.relative_to(schema.root.parent).as_posix()
    except ValueError:
        return str(script.path)


def main(
    argv: list[str] | None = None,
    client_factory: Callable[[str], ManagementClient] = connect,
) -> int:
    parser = argparse.ArgumentParser(description="Deploy Powerwatch's KQL scripts to ADX.")
    parser.add_argument("--cluster", required=True, help="cluster URI, https://...")
    parser.add_argument("--database", required=True)
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    parser.add_argument("--root", type=Path, help="kusto/ directory (default: this repository's)")
    args = parser.parse_args(argv)
    schema = load_schema(args.root)
    client = None if args.dry_run else client_factory(args.cluster)
    try:
        applied = deploy(schema, client, args.database, dry_run=args.dry_run)
    except DeployError as error:
        print(f"deploy failed: {error}", file=sys.stderr)
        return 1
    verb = "would apply" if args.dry_run else "applied"
    print(f"{verb} {len(applied)} commands to {args.cluster} / {args.database}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
