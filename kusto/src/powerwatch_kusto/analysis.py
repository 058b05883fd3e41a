"""Run Microsoft's KQL analyzer (kusto/analyzer/check.js) over texts, against our schema.

The database the analyzer sees is built from the loaded `.create` commands (tables,
functions, materialized views), never from a second hand-written description.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404 - runs our own node script with fixed arguments
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import KustoError
from .loader import KustoSchema

CHECKER = Path(__file__).resolve().parents[2] / "analyzer" / "check.js"


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    code: str
    message: str
    start: int
    end: int


@dataclass(frozen=True)
class Analysis:
    """The analyzer's verdict on one text."""

    id: str
    text: str
    diagnostics: tuple[Diagnostic, ...]
    columns: tuple[tuple[str, str], ...] | None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "Error")

    def describe(self) -> str:
        lines = [f"{self.id}:"]
        for d in self.errors:
            lines.append(f"  {d.code} {d.message} at {self.text[d.start : d.end]!r}")
        return "\n".join(lines)


def database_payload(schema: KustoSchema, name: str = "Powerwatch") -> dict[str, Any]:
    return {
        "name": name,
        "tables": [
            {
                "name": t.name,
                "schema": "(" + ", ".join(f"{c.name}:{c.kql_type}" for c in t.columns) + ")",
                "docstring": t.docstring,
            }
            for t in schema.tables.values()
        ],
        "functions": [
            {
                "name": f.name,
                "parameters": "(" + ", ".join(p.declaration() for p in f.parameters) + ")",
                "body": "{" + f.body + "}",
                "docstring": f.docstring,
            }
            for f in schema.functions.values()
        ],
        "views": [
            {"name": v.name, "query": v.query, "docstring": v.docstring}
            for v in schema.views.values()
        ],
    }


def analyze(
    schema: KustoSchema, items: dict[str, str], node: str | None = None
) -> dict[str, Analysis]:
    """Analyze every text in items (id -> KQL) in one node process."""
    executable = node or shutil.which("node")
    if executable is None:
        raise KustoError("node is not installed (make node)")
    payload = {
        "database": database_payload(schema),
        "items": [{"id": key, "text": text} for key, text in items.items()],
    }
    completed = subprocess.run(  # noqa: S603  # nosec B603 - fixed argv, JSON over stdin
        [executable, str(CHECKER)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        raise KustoError(f"analyzer failed: {completed.stderr.strip()[-2000:]}")
    output = json.loads(completed.stdout)
    results = {}
    for result in output["results"]:
        columns = result.get("columns")
        results[result["id"]] = Analysis(
            id=result["id"],
            text=items[result["id"]],
            diagnostics=tuple(Diagnostic(**d) for d in result["diagnostics"]),
            columns=tuple((c[0], c[1]) for c in columns) if columns is not None else None,
        )
    return results


def schema_items(schema: KustoSchema) -> dict[str, str]:
    """Every text the schema itself carries: commands, function and view bodies, policy queries."""
    items: dict[str, str] = {}
    for index, script in enumerate(schema.scripts):
        items[f"command {index}: {script.path.name}"] = script.command
    for fn in schema.functions.values():
        declared = ", ".join(p.declaration() for p in fn.parameters)
        prefix = f"declare query_parameters({declared});\n" if fn.parameters else ""
        items[f"function body: {fn.name}"] = prefix + fn.body
        items[f"api call: {fn.name}"] = schema.call_query(fn.name)
    for view in schema.views.values():
        items[f"view query: {view.name}"] = view.query
    for policy in schema.update_policies:
        items[f"update policy query: {policy.table}"] = policy.query
    return items


_DASHBOARD_TYPES = {"string": "string", "int": "int", "long": "long", "datetime": "datetime"}


def dashboard_items(root: Path) -> dict[str, str]:
    """Every tile query of every exported dashboard, with its parameters declared."""
    items: dict[str, str] = {}
    for path in sorted((root / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        types: dict[str, str] = {}
        for parameter in dashboard.get("parameters", []):
            if parameter["kind"] == "duration":
                types[parameter["beginVariableName"]] = "datetime"
                types[parameter["endVariableName"]] = "datetime"
            else:
                types[parameter["variableName"]] = _DASHBOARD_TYPES[parameter["kind"]]
        for query in dashboard.get("queries", []):
            used = query.get("usedVariables", [])
            declared = ", ".join(f"{name}:{types[name]}" for name in used)
            prefix = f"declare query_parameters({declared});\n" if used else ""
            items[f"dashboard {path.name}: {query['id']}"] = prefix + query["text"]
    return items
