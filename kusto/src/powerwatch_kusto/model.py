"""Typed objects the loader produces from the .kql scripts (one source of truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Script:
    """One command of one .kql file, with the deploy stage it belongs to."""

    path: Path
    stage: str
    command: str


@dataclass(frozen=True)
class Column:
    name: str
    kql_type: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    folder: str
    docstring: str
    script: Script

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class MappingEntry:
    column: str
    path: str


@dataclass(frozen=True)
class Mapping:
    name: str
    table: str
    kind: str
    entries: tuple[MappingEntry, ...]
    script: Script


@dataclass(frozen=True)
class Parameter:
    name: str
    kql_type: str
    default: str | None = None

    def declaration(self) -> str:
        text = f"{self.name}:{self.kql_type}"
        return text if self.default is None else f"{text} = {self.default}"


@dataclass(frozen=True)
class Function:
    name: str
    parameters: tuple[Parameter, ...]
    body: str
    folder: str
    docstring: str
    script: Script
    dependencies: frozenset[str] = field(default_factory=frozenset)

    @property
    def definition(self) -> str:
        """The command text without leading comments (what a cluster and duckdb-kql take)."""
        return self.script.command


@dataclass(frozen=True)
class Policy:
    """`.alter[-merge] <entity kind> <entity> policy <kind> <value>`."""

    kind: str
    entity_kind: str
    entity: str
    value: Any
    script: Script


@dataclass(frozen=True)
class UpdatePolicy:
    table: str
    source: str
    query: str
    is_enabled: bool
    is_transactional: bool
    policy: Policy


@dataclass(frozen=True)
class MaterializedView:
    name: str
    source: str
    query: str
    folder: str
    docstring: str
    script: Script
    #: `with (lookback = ...)`: how far back (ingestion time) a de-duplicating view
    #: compares new rows; None = no limit.
    lookback: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The view's group-by expressions (its last `summarize ... by ...`)."""
        return group_by_keys(self.query)


def group_by_keys(query: str) -> tuple[str, ...]:
    """The group-by expressions of a view query (its last `summarize ... by ...`)."""
    summarize = query.rsplit("summarize", 1)[-1]
    _, by, keys = summarize.rpartition(" by ")
    if not by:
        return ()
    return tuple(" ".join(k.split()) for k in keys.split(","))
