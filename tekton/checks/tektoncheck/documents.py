"""Load every YAML document under tekton/ and index them by kind and name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Files that configure tools rather than describe Kubernetes resources.
NOT_RESOURCES = {".yamllint.yaml", ".tektonlintrc.yaml", "kustomization.yaml"}
VARIABLE = re.compile(r"\$\(([a-zA-Z]+)\.([^)]*)\)")


@dataclass(frozen=True)
class Doc:
    """One YAML document and where it came from."""

    path: Path
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        meta = self.body.get("metadata") or {}
        return str(meta.get("name") or meta.get("generateName") or "")

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)} ({self.kind} {self.name})"


@dataclass
class Repo:
    """All the resource documents of a tekton/ folder."""

    root: Path
    docs: list[Doc] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Doc]:
        return [doc for doc in self.docs if doc.kind == kind]

    def named(self, kind: str) -> dict[str, Doc]:
        return {doc.name: doc for doc in self.of_kind(kind)}


def bodies(repo: Repo) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every resource with where it is, and the runs inside each TriggerTemplate."""
    for doc in repo.docs:
        yield doc.where(repo.root), doc.body
    for doc in repo.of_kind("TriggerTemplate"):
        for index, body in enumerate(doc.spec.get("resourcetemplates") or []):
            if isinstance(body, dict):
                yield f"{doc.where(repo.root)}: resourcetemplates[{index}]", body


def resource_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*.yaml")
        if path.name not in NOT_RESOURCES and "node_modules" not in path.parts
    )


def load(root: Path, files: list[Path] | None = None) -> Repo:
    """Parse every resource file under root (or only ``files``); a file that is not
    YAML raises with its name."""
    repo = Repo(root=root)
    for path in resource_files(root) if files is None else files:
        try:
            bodies = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as error:
            raise ValueError(f"{path}: not valid YAML: {error}") from error
        repo.docs.extend(Doc(path, body) for body in bodies if isinstance(body, dict))
    return repo


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string value in a tree with its dotted path."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}[{index}]")


def variables(node: Any) -> Iterator[tuple[str, str, str]]:
    """Every ``$(scope.rest)`` reference in a tree: (path, scope, rest)."""
    for path, text in strings(node):
        for match in VARIABLE.finditer(text):
            yield path, match.group(1), match.group(2)
