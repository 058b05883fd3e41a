"""Strict JSON-Schema validation of every Tekton resource against the real CRDs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jsonschema
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
    assert kinds.count("Task") == 7
    assert {"Pipeline", "PipelineRun", "TaskRun"} <= set(kinds)
    assert schema_problems(repo, CRDS) == []


def test_an_unknown_step_field_is_rejected(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    edit(
        tekton_copy / "tasks/lint/lint.yaml",
        "    - name: ruff-and-bandit\n",
        "    - name: ruff-and-bandit\n      argz: [x]\n",
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


def test_a_beta_document_is_checked_against_the_beta_schema(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    # The server serves v1beta1 too; preferring v1 is a style rule (test_style.py).
    # v1beta1 names a step template's resources `resources`, not `computeResources`.
    edit(
        tekton_copy / "tasks/summary/summary.yaml",
        "apiVersion: tekton.dev/v1\n",
        "apiVersion: tekton.dev/v1beta1\n",
    )
    problems = schema_problems(documents.load(tekton_copy), CRDS)
    assert any(
        "summary" in p and "stepTemplate" in p and "'computeResources' was unexpected" in p
        for p in problems
    ), problems


def test_an_unserved_api_version_is_refused(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    edit(
        tekton_copy / "tasks/summary/summary.yaml",
        "apiVersion: tekton.dev/v1\n",
        "apiVersion: tekton.dev/v2\n",
    )
    problems = schema_problems(documents.load(tekton_copy), CRDS)
    assert any("tekton.dev/v2 is not served" in p for p in problems), problems


# --- what the server accepts that the raw CRD schema does not -------------------


def _task_run(task_spec: dict[str, object], **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "metadata": {"generateName": "t-"},
        "spec": {"taskSpec": task_spec, **spec},
    }


def _task(spec: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"}, "spec": spec}


def test_required_is_kept_only_where_the_go_round_trip_writes_nothing() -> None:
    converted = schema.strict(
        {
            "type": "object",
            "required": ["name", "port", "value", "items", "spec"],
            "properties": {
                "name": {"type": "string"},
                "port": {"x-kubernetes-int-or-string": True},
                "value": {"x-kubernetes-preserve-unknown-fields": True},
                "items": {"type": "array", "items": {"type": "string"}},
                "spec": {"type": "object", "properties": {"a": {"type": "string"}}},
                "pinned": {"type": "string", "pattern": "^x$"},
            },
        }
    )
    # A Go string, IntOrString or struct is always written (as "", 0, {}); a custom
    # type (ParamValue) or a nil slice is not.
    assert converted["required"] == ["value", "items"]
    assert schema.round_trip_zero({"type": "string", "pattern": "^x$"}) == ""
    assert not jsonschema.Draft7Validator(converted["properties"]["pinned"]).is_valid("")


def test_the_real_task_schema_requires_step_names_and_the_server_does_not() -> None:
    raw = yaml.safe_load((CRDS / "300-task.yaml").read_text(encoding="utf-8"))
    v1 = next(v for v in raw["spec"]["versions"] if v["name"] == "v1")
    steps = v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["steps"]
    assert steps["items"]["required"] == ["name"]
    task = _task({"steps": [{"image": "alpine", "script": "true"}]})
    assert schema.validate(task, CRDS, "t") == []


def test_an_unnamed_step_and_a_workspace_without_mount_path_are_accepted() -> None:
    task_spec = {
        "workspaces": [{"name": "ws"}],
        "steps": [{"image": "alpine", "script": "true", "workspaces": [{"name": "ws"}]}],
        "sidecars": [{"image": "alpine", "workspaces": [{"name": "ws"}]}],
    }
    assert schema.validate(_task_run(task_spec), CRDS, "tr") == []
    assert schema.validate(_task(task_spec), CRDS, "t") == []


def test_a_param_without_value_is_refused() -> None:
    # ParamValue.MarshalJSON fails on an empty value: the webhook cannot round-trip it.
    run = _task_run({"steps": [{"image": "alpine"}]}, params=[{"name": "p"}])
    problems = schema.validate(run, CRDS, "tr")
    assert any("params.0: 'value' is a required property" in p for p in problems), problems


def test_a_wrong_type_is_refused_also_inside_an_inline_spec() -> None:
    run = _task_run({"steps": [{"image": "alpine", "args": "not-a-list"}]}, timeout=5)
    problems = schema.validate(run, CRDS, "tr")
    assert any("spec.timeout: 5 is not of type 'string'" in p for p in problems), problems
    assert any(
        "spec.taskSpec: steps.0.args: 'not-a-list' is not of type 'array'" in p for p in problems
    ), problems


def test_an_unknown_field_in_an_inline_pipeline_spec_is_refused() -> None:
    # The CRD preserves unknown fields under pipelineSpec; the webhook's strict
    # decoding refuses them.
    run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"generateName": "p-"},
        "spec": {
            "pipelineSpec": {
                "taskz": [],
                "tasks": [{"name": "a", "taskSpec": {"steps": [{"image": "x"}], "stepz": []}}],
            }
        },
    }
    problems = schema.validate(run, CRDS, "pr")
    assert any("spec.pipelineSpec: <root>" in p and "'taskz' was unexpected" in p for p in problems)
    assert any("tasks[0].taskSpec" in p and "'stepz' was unexpected" in p for p in problems)


def test_a_key_differing_only_in_case_is_go_matched_inline_and_refused_in_a_task() -> None:
    usage = {"image": "alpine", "workspaces": [{"name": "ws", "mountpath": "/w"}]}
    task_spec = {"workspaces": [{"name": "ws"}], "steps": [usage]}
    # Inline, encoding/json matches `mountpath` to MountPath (examples/v1 beta/isolated-workspaces).
    assert schema.validate(_task_run(task_spec), CRDS, "tr") == []
    # In a Task the API server checks the schema first and refuses the unknown key.
    problems = schema.validate(_task(task_spec), CRDS, "t")
    assert any("'mountpath' was unexpected" in p for p in problems), problems


def _required(node: object, path: str, found: set[str]) -> None:
    if not isinstance(node, dict):
        return
    found.update(f"{path}.{name}" for name in node.get("required") or [])
    for key, child in (node.get("properties") or {}).items():
        _required(child, f"{path}.{key}", found)
    for key in ("items", "additionalProperties"):
        _required(node.get(key), f"{path}[]", found)


def test_only_param_values_stay_required_in_any_spec() -> None:
    # Every other `required` field of the four v1 CRDs is a Go field the webhook's
    # round trip always writes. A CRD update that adds one of another kind shows here.
    found: set[str] = set()
    for kind in schema.CRD_FILES:
        _required(schema.schema_for(CRDS, kind)["properties"]["spec"], kind, found)
    assert {path.rsplit(".", 1)[1] for path in found} == {"value"}
    assert all(path.endswith(("params[].value", "results[].value")) for path in found), found
