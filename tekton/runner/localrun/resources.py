"""Read the Tasks and Pipelines of a tekton/ folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Resources:
    tasks: dict[str, dict[str, Any]]
    pipelines: dict[str, dict[str, Any]]


def load(root: Path) -> Resources:
    """Every Task and Pipeline found in the YAML files under ``root``."""
    tasks: dict[str, dict[str, Any]] = {}
    pipelines: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or not str(doc.get("apiVersion", "")).startswith(
                "tekton.dev/"
            ):
                continue
            name = str((doc.get("metadata") or {}).get("name", ""))
            if doc.get("kind") == "Task":
                tasks[name] = doc
            elif doc.get("kind") == "Pipeline":
                pipelines[name] = doc
    return Resources(tasks, pipelines)
