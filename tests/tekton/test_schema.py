"""Strict JSON-Schema validation of every Tekton resource against the real CRDs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from tekton_testkit import CRDS, TEKTON
from tektoncheck import documents, schema, schema_problems


def test_crds_are_the_shared_v1_15_0_ones() -> None:
    assert "v1.15.0" in (CRDS / "README.md").read_text(encoding="utf-8")


def test_strict_closes_objects_with_properties_only() -> None:
    converted = schema.strict(
        {
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"b": {"type": "string"}}},
                "free": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {},
                },
                "map": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    )
    assert converted["additionalProperties"] is False
    assert converted["properties"]["a"]["additionalProperties"] is False
    assert "additionalProperties" not in converted["properties"]["free"]
    assert converted["properties"]["map"]["additionalProperties"] == {"type": "string"}


def test_every_task_pipeline_and_run_is_valid() -> None:
    repo = documents.load(TEKTON)
    kinds = sorted(doc.kind for doc in repo.docs if doc.kind in schema.CRD_FILES)
    assert kinds.count("Task") == 6
    assert {"Pipeline", "PipelineRun", "TaskRun"} <= set(kinds)
    assert schema_problems(repo, CRDS) == []


def test_an_unknown_step_field_is_rejected(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    edit(
        tekton_copy / "tasks/lint/lint.yaml",
        "    - name: ruff\n",
        "    - name: ruff\n      argz: [x]\n",
    )
    problems = schema_problems(documents.load(tekton_copy), CRDS)
    assert any("'argz' was unexpected" in p for p in problems), problems


def test_a_misspelled_pipeline_field_is_rejected(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    edit(
        tekton_copy / "pipeline/python-ci.yaml",
        '      runAfter: ["build-image"]',
        '      runafter: ["build-image"]',
    )
    problems = schema_problems(documents.load(tekton_copy), CRDS)
    assert any("'runafter' was unexpected" in p for p in problems), problems


def test_an_inline_task_spec_is_checked_against_the_task_schema(tmp_path: Path) -> None:
    pipeline = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "inline"},
        "spec": {
            "tasks": [
                {
                    "name": "hello",
                    "taskSpec": {
                        "steps": [{"name": "s", "image": "x@sha256:1", "scriptz": "echo"}]
                    },
                }
            ]
        },
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(pipeline), encoding="utf-8")
    problems = schema_problems(documents.load(tmp_path), CRDS)
    assert any("taskSpec" in p and "'scriptz' was unexpected" in p for p in problems), problems


def test_a_bad_field_inside_a_trigger_template_run_is_rejected(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    edit(
        tekton_copy / "triggers/triggertemplate.yaml", "        timeouts:\n", "        timeoutz:\n"
    )
    problems = schema_problems(documents.load(tekton_copy), CRDS)
    assert any("resourcetemplates[0]" in p and "timeoutz" in p for p in problems), problems


def test_beta_api_versions_are_refused(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    edit(
        tekton_copy / "tasks/summary/summary.yaml",
        "apiVersion: tekton.dev/v1\n",
        "apiVersion: tekton.dev/v1beta1\n",
    )
    problems = schema_problems(documents.load(tekton_copy), CRDS)
    assert any("must be tekton.dev/v1" in p for p in problems), problems
