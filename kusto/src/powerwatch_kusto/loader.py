"""The one loader of kusto/*.kql: deploy, the analyzer test, LocalKusto and the API use it.

Each file holds idempotent commands separated by blank lines (the ADX database-script
convention). A command is recognised by its verb and parsed into the typed objects of
`powerwatch_kusto.model`; anything unrecognised is a ScriptError naming the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import ScriptError
from .model import (
    Column,
    Function,
    Mapping,
    MappingEntry,
    MaterializedView,
    Parameter,
    Policy,
    Script,
    Table,
    UpdatePolicy,
)

#: The kusto/ directory of this repository (src/powerwatch_kusto/loader.py -> kusto/).
DEFAULT_ROOT = Path(__file__).resolve().parents[2]

#: Deploy order: tables (+ mappings) -> materialized views -> view policies -> functions
#: (callees first) -> table policies. Views read only tables; functions may read views, and
#: ADX validates a function body against what exists when it is created.
STAGES = ("tables", "views", "view-policies", "functions", "policies")

_TABLE = re.compile(r"^\.create-merge\s+table\s+(\w+)\s*\((.*?)\)\s*(?:with\s*(\(.*\)))?\s*$", re.S)
_MAPPING = re.compile(
    r"^\.create-or-alter\s+table\s+(\w+)\s+ingestion\s+(\w+)\s+mapping\s+\"(\w+)\"\s*(.*)$", re.S
)
_FUNCTION = re.compile(r"^\.create-or-alter\s+function\s+(.*)$", re.S)
_FUNCTION_HEAD = re.compile(r"^(\w+)\s*\((.*?)\)\s*\{(.*)\}\s*$", re.S)
_POLICY = re.compile(
    r"^\.alter(?:-merge)?\s+(table|materialized-view)\s+(\w+)\s+policy\s+(\w+)\s+(.*)$", re.S
)
_VIEW = re.compile(
    r"^\.(create(?:-or-alter)?)\s+(async\s+)?(?:ifnotexists\s+)?materialized-view\s+(.*)$", re.S
)
_VIEW_HEAD = re.compile(r"^(\w+)\s+on\s+table\s+(\w+)\s*\{(.*)\}\s*$", re.S)
_PROPERTY = re.compile(r"(\w+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^,\s)]+)")
_STRING_LINE = re.compile(r"^\s*'(.*)'\s*$")
_HOT = re.compile(r"^hot\s*=\s*(\d+[dhms])\s*$")
_FLAG = re.compile(r"^(true|false)$")


@dataclass(frozen=True)
class KustoSchema:
    """Everything the .kql files define, parsed."""

    root: Path
    tables: dict[str, Table]
    mappings: dict[str, Mapping]
    functions: dict[str, Function]
    policies: tuple[Policy, ...]
    views: dict[str, MaterializedView]
    _scripts: tuple[Script, ...] = field(repr=False)

    @cached_property
    def update_policies(self) -> tuple[UpdatePolicy, ...]:
        """Every update policy, one per (target table, entry) of the policy JSON."""
        found: list[UpdatePolicy] = []
        for policy in self.policies:
            if policy.kind != "update":
                continue
            for entry in policy.value:
                found.append(
                    UpdatePolicy(
                        table=policy.entity,
                        source=str(entry["Source"]),
                        query=str(entry["Query"]),
                        is_enabled=bool(entry.get("IsEnabled", False)),
                        is_transactional=bool(entry.get("IsTransactional", False)),
                        policy=policy,
                    )
                )
        return tuple(found)

    @property
    def scripts(self) -> tuple[Script, ...]:
        """Every command in deploy order (stages, then dependency order within functions)."""
        return self._scripts

    def table_columns(self) -> dict[str, list[str]]:
        """table -> column names, the shape duckdb-kql's `schema=` takes."""
        return {name: list(t.column_names) for name, t in self.tables.items()}

    def call_query(self, function: str) -> str:
        """The parameterised text that calls a stored function: what the API sends.

        `declare query_parameters(...)` repeats the function's parameters (types and
        defaults), then the call passes each by name, so values travel as parameters.
        """
        fn = self.functions[function]
        args = ", ".join(p.name for p in fn.parameters)
        if not fn.parameters:
            return f"{fn.name}()"
        declared = ", ".join(p.declaration() for p in fn.parameters)
        return f"declare query_parameters({declared});\n{fn.name}({args})"


def load_schema(root: Path | str | None = None) -> KustoSchema:
    """Parse every .kql file under root (default: this repository's kusto/)."""
    base = Path(root) if root is not None else DEFAULT_ROOT
    tables: dict[str, Table] = {}
    mappings: dict[str, Mapping] = {}
    functions: dict[str, Function] = {}
    policies: list[Policy] = []
    views: dict[str, MaterializedView] = {}
    staged: dict[str, list[Script]] = {stage: [] for stage in STAGES}

    for path in sorted(base.rglob("*.kql")):
        if "node_modules" in path.parts:
            continue
        for command in split_commands(path.read_text(encoding="utf-8")):
            _parse_command(path, command, tables, mappings, functions, policies, views, staged)

    ordered = _dependency_order(functions)
    functions = {name: functions[name] for name in ordered}
    staged["functions"] = [functions[name].script for name in ordered]
    scripts = tuple(s for stage in STAGES for s in staged[stage])
    return KustoSchema(base, tables, mappings, functions, tuple(policies), views, scripts)


def split_commands(text: str) -> list[str]:
    """Commands separated by blank lines, leading `//` comment lines removed."""
    commands = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = chunk.strip().splitlines()
        while lines and lines[0].lstrip().startswith("//"):
            lines.pop(0)
        if lines:
            commands.append("\n".join(lines).strip())
    return commands


def _parse_command(
    path: Path,
    command: str,
    tables: dict[str, Table],
    mappings: dict[str, Mapping],
    functions: dict[str, Function],
    policies: list[Policy],
    views: dict[str, MaterializedView],
    staged: dict[str, list[Script]],
) -> None:
    try:
        if match := _TABLE.match(command):
            script = Script(path, "tables", command)
            props = _properties(match.group(3) or "")
            columns = tuple(_column(c) for c in _split_top_level(match.group(2)))
            tables[match.group(1)] = Table(
                match.group(1), columns, props.get("folder", ""), props.get("docstring", ""), script
            )
        elif match := _MAPPING.match(command):
            script = Script(path, "tables", command)
            mappings[match.group(3)] = _mapping(match, script)
        elif match := _FUNCTION.match(command):
            script = Script(path, "functions", command)
            functions_entry = _function(match.group(1), script)
            functions[functions_entry.name] = functions_entry
            return  # staged after dependency ordering
        elif match := _POLICY.match(command):
            stage = "policies" if match.group(1) == "table" else "view-policies"
            script = Script(path, stage, command)
            value = _policy_value(match.group(3), match.group(4))
            policies.append(Policy(match.group(3), match.group(1), match.group(2), value, script))
        elif match := _VIEW.match(command):
            script = Script(path, "views", command)
            view = _view(match.group(3), script, asynchronous=bool(match.group(2)))
            views[view.name] = view
        else:
            raise ScriptError(f"{path}: unrecognised command: {command.splitlines()[0][:80]}")
    except (ValueError, KeyError, TypeError) as error:
        raise ScriptError(
            f"{path}: cannot parse {command.splitlines()[0][:80]!r}: {error}"
        ) from error
    staged[script.stage].append(script)


def _column(text: str) -> Column:
    name, _, kql_type = text.partition(":")
    if not kql_type.strip():
        raise ValueError(f"column without a type: {text.strip()!r}")
    return Column(name.strip(), kql_type.strip())


def _mapping(match: re.Match[str], script: Script) -> Mapping:
    # The mapping JSON is written as consecutive '...' string literals, one per line.
    pieces = []
    for line in match.group(4).splitlines():
        literal = _STRING_LINE.match(line)
        if literal is None:
            raise ValueError(f"mapping line is not a '...' literal: {line.strip()!r}")
        pieces.append(literal.group(1))
    entries = json.loads("".join(pieces))
    return Mapping(
        name=match.group(3),
        table=match.group(1),
        kind=match.group(2).lower(),
        entries=tuple(
            MappingEntry(str(e["column"]), str(e["Properties"]["Path"])) for e in entries
        ),
        script=script,
    )


def _function(rest: str, script: Script) -> Function:
    props, rest = _leading_with(rest)
    head = _FUNCTION_HEAD.match(rest)
    if head is None:
        raise ValueError("expected Name(params) { body }")
    parameters = tuple(_parameter(p) for p in _split_top_level(head.group(2)))
    return Function(
        name=head.group(1),
        parameters=parameters,
        body=head.group(3).strip(),
        folder=props.get("folder", ""),
        docstring=props.get("docstring", ""),
        script=script,
    )


def _parameter(text: str) -> Parameter:
    declaration, _, default = text.partition("=")
    name, _, kql_type = declaration.partition(":")
    if not kql_type.strip():
        raise ValueError(f"parameter without a type: {text.strip()!r}")
    return Parameter(name.strip(), kql_type.strip(), default.strip() or None)


def _view(rest: str, script: Script, asynchronous: bool) -> MaterializedView:
    props, rest = _leading_with(rest)
    head = _VIEW_HEAD.match(rest)
    if head is None:
        raise ValueError("expected Name on table Source { query }")
    if props.get("backfill", "false").lower() == "true" and not asynchronous:
        # "When you're using this option, the create command must be async"
        # (https://learn.microsoft.com/kusto/management/materialized-views/materialized-view-create).
        raise ValueError(f"{head.group(1)}: backfill = true needs `.create async`")
    return MaterializedView(
        name=head.group(1),
        source=head.group(2),
        query=head.group(3).strip(),
        folder=props.get("folder", ""),
        docstring=props.get("docString", props.get("docstring", "")),
        script=script,
        lookback=props.get("lookback"),
    )


def _policy_value(kind: str, text: str) -> Any:
    text = text.strip()
    if hot := _HOT.match(text):
        return {"hot": hot.group(1)}
    if flag := _FLAG.match(text):  # e.g. `policy ingestiontime true`
        return flag.group(1) == "true"
    if text.startswith("@'") and text.endswith("'"):
        return json.loads(text[2:-1].replace("''", "'"))
    if text.startswith("'") and text.endswith("'"):
        return json.loads(text[1:-1])
    raise ValueError(
        f"policy {kind}: expected a '...' JSON literal, hot = <timespan>, true or false"
    )


def _leading_with(text: str) -> tuple[dict[str, str], str]:
    """Split an optional leading `with (k = v, ...)` from the rest of a command."""
    stripped = text.lstrip()
    if not stripped.startswith("with"):
        return {}, stripped
    start = stripped.index("(")
    end = _matching_paren(stripped, start)
    return _properties(stripped[start : end + 1]), stripped[end + 1 :].lstrip()


def _properties(text: str) -> dict[str, str]:
    props = {}
    for key, value in _PROPERTY.findall(text.strip()[1:-1] if text.strip() else ""):
        if value[:1] in "\"'":
            value = value[1:-1]
        props[key] = value
    return props


def _matching_paren(text: str, start: int) -> int:
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError("unbalanced parentheses in with (...)")


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _dependency_order(functions: dict[str, Function]) -> list[str]:
    """Functions sorted so each comes after the functions its body calls."""
    calls = {
        name: {
            other
            for other in functions
            if other != name and re.search(rf"\b{re.escape(other)}\s*\(", fn.body)
        }
        for name, fn in functions.items()
    }
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, chain: Iterable[str]) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise ScriptError(f"functions call each other in a cycle: {' -> '.join(chain)}")
        visiting.add(name)
        for dependency in sorted(calls[name]):
            visit(dependency, [*chain, dependency])
        visiting.discard(name)
        ordered.append(name)

    for name in sorted(functions):
        visit(name, [name])
    for name in ordered:
        functions[name] = _with_dependencies(functions[name], frozenset(calls[name]))
    return ordered


def _with_dependencies(fn: Function, dependencies: frozenset[str]) -> Function:
    return Function(
        fn.name, fn.parameters, fn.body, fn.folder, fn.docstring, fn.script, dependencies
    )


_DECLARE = re.compile(r"\bdeclare\s+query_parameters\s*\(")


def declared_parameters(kql: str) -> tuple[Parameter, ...]:
    """The parameters a query text declares (with the default text as written, if any)."""
    match = _DECLARE.search(kql)
    if match is None:
        return ()
    start = match.end() - 1
    inner = kql[start + 1 : _matching_paren(kql, start)]
    return tuple(_parameter(p) for p in _split_top_level(inner))
