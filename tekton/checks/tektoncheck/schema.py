"""Strict JSON Schemas for Tekton resources, derived from the real CRDs.

A CRD's ``openAPIV3Schema`` lets unknown fields through when read as plain JSON
Schema; an API server prunes or rejects them. Adding ``additionalProperties: false``
wherever a node lists ``properties`` (and does not preserve unknown fields) gives
the same strictness, so ``argz:`` or ``runafter:`` is an error here too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_FILES = {
    "Task": "300-task.yaml",
    "TaskRun": "300-taskrun.yaml",
    "Pipeline": "300-pipeline.yaml",
    "PipelineRun": "300-pipelinerun.yaml",
}
PRESERVE = "x-kubernetes-preserve-unknown-fields"


def strict(node: Any) -> Any:
    """Return a copy of an OpenAPI v3 schema that rejects unknown fields."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if "properties" in out and not out.get(PRESERVE) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def _crd_schema(crd_dir: str, kind: str) -> dict[str, Any]:
    text = (Path(crd_dir) / CRD_FILES[kind]).read_text(encoding="utf-8")
    # The C loader: the four CRDs are 1.3 MB of YAML.
    crd = yaml.load(text, Loader=yaml.CSafeLoader)
    for version in crd["spec"]["versions"]:
        if version["name"] == "v1":
            schema: dict[str, Any] = strict(version["schema"]["openAPIV3Schema"])
            return schema
    raise LookupError(f"{CRD_FILES[kind]} has no v1 version")


def schema_for(crd_dir: Path, kind: str) -> dict[str, Any]:
    """The strict v1 schema of ``kind`` (a deep copy: callers may not mutate the cache)."""
    return copy.deepcopy(_crd_schema(str(crd_dir), kind))


def task_spec_schema(crd_dir: Path) -> dict[str, Any]:
    """The schema of a Task's ``spec`` — used for inline ``taskSpec`` blocks."""
    spec: dict[str, Any] = schema_for(crd_dir, "Task")["properties"]["spec"]
    return spec


def _errors(schema: dict[str, Any], instance: Any, where: str) -> Iterator[str]:
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        yield f"{where}: {path or '<root>'}: {error.message}"


def _inline_task_specs(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pipeline":
        for section in ("tasks", "finally"):
            for index, task in enumerate(spec.get(section) or []):
                if isinstance(task, dict) and "taskSpec" in task:
                    yield f"spec.{section}[{index}].taskSpec", _without_metadata(task["taskSpec"])
    if doc.get("kind") == "TaskRun" and "taskSpec" in spec:
        yield "spec.taskSpec", spec["taskSpec"]


def _without_metadata(task_spec: Any) -> Any:
    # An embedded task may carry metadata (labels/annotations) beside the spec fields.
    if isinstance(task_spec, dict):
        return {k: v for k, v in task_spec.items() if k != "metadata"}
    return task_spec


def validate(doc: dict[str, Any], crd_dir: Path, where: str) -> list[str]:
    """Every schema error of one Tekton document (empty when it is valid)."""
    kind = doc.get("kind")
    if kind not in CRD_FILES:
        return []
    if doc.get("apiVersion") != "tekton.dev/v1":
        return [f"{where}: apiVersion must be tekton.dev/v1, not {doc.get('apiVersion')}"]
    problems = list(_errors(schema_for(crd_dir, kind), doc, where))
    for path, task_spec in _inline_task_specs(doc):
        problems.extend(_errors(task_spec_schema(crd_dir), task_spec, f"{where}: {path}"))
    return problems
