"""The project's style rules: stricter than Tekton, for this repository's own files.

Tekton accepts every document these rules flag (its own examples break several),
so each problem is named ``style/<rule>`` and reported apart from what a cluster
would refuse. ``make tekton-check`` enforces both on tekton/.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tektoncheck import schema
from tektoncheck.documents import Repo, bodies

PREFIX = "style/"


def problem(rule: str, text: str) -> str:
    """A style problem: ``style/<rule>: <where>: <what>``."""
    return f"{PREFIX}{rule}: {text}"


def is_style(text: str) -> bool:
    return text.startswith(PREFIX)


def tagged(rule: str, problems: Iterable[str]) -> list[str]:
    """Problems of a whole family of project rules (hardening) under one name."""
    return [problem(rule, text) for text in problems]


def task_specs(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A Task's spec and every inline task spec of a run or pipeline: (path, spec)."""
    spec = body.get("spec")
    if body.get("kind") == "Task" and isinstance(spec, dict):
        yield "spec", spec
    for path, which, inline in schema.inline_specs(body):
        if which in {"task", "embedded-task"} and isinstance(inline, dict):
            yield path, inline


def _named_containers(where: str, path: str, spec: dict[str, Any]) -> Iterator[str]:
    # Tekton names an unnamed step "unnamed-<index>"; our checks, logs and the local
    # runner refer to steps by name, as the catalog's tasks do.
    for section, rule in (("steps", "step-name-required"), ("sidecars", "sidecar-name-required")):
        containers = spec.get(section)
        for index, container in enumerate(containers if isinstance(containers, list) else []):
            if isinstance(container, dict) and not container.get("name"):
                yield problem(rule, f"{where}: {path}.{section}[{index}] has no name")


def _field_case(where: str, body: dict[str, Any], crd_dir: Path, version: str) -> Iterator[str]:
    # Go's encoding/json matches `mountpath` to `mountPath` in an inline spec; the
    # same key is refused in a Task. Spell fields as the API does everywhere.
    for path, which, inline in schema.inline_specs(body):
        spec_schema = schema.SPEC_SCHEMAS[which](crd_dir, version)
        for key_path, name in schema.go_key_renames(inline, spec_schema):
            yield problem(
                "field-name-case", f"{where}: {path}.{key_path} should be spelled '{name}'"
            )


def check(repo: Repo, crd_dir: Path) -> list[str]:
    problems: list[str] = []
    for where, body in bodies(repo):
        if body.get("kind") not in schema.CRD_FILES:
            continue
        api_version = body.get("apiVersion")
        if api_version != "tekton.dev/v1":
            problems.append(
                problem(
                    "api-version-v1",
                    f"{where}: apiVersion must be tekton.dev/v1, not {api_version}",
                )
            )
        for path, spec in task_specs(body):
            problems.extend(_named_containers(where, path, spec))
        if api_version in schema.API_VERSIONS:
            problems.extend(_field_case(where, body, crd_dir, str(api_version).split("/")[1]))
    return problems
