"""The local runner refuses and reports what the Tekton controller would: more than
one PVC per TaskRun, a param of the wrong type; it honours PipelineTask onError and
pipeline results, and a task whose tool is missing is NOT RUN, never a pass."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from localrun import resources
from localrun.logbook import Logbook
from localrun.pipelinerun import PipelineRunner, RunReport
from localrun.taskrun import Machine
from run_local import summary
from tekton_testkit import REPO
from test_runner_pipelinerun import PATH, pipeline, task


def run(
    tmp_path: Path,
    docs: list[dict[str, Any]],
    *,
    run_params: dict[str, Any] | None = None,
    run_workspaces: dict[str, dict[str, Any]] | None = None,
    coschedule: str = "workspaces",
) -> RunReport:
    (tmp_path / "tekton").mkdir()
    (tmp_path / "tekton" / "all.yaml").write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    found = resources.load(tmp_path / "tekton")
    spec = found.pipelines["p"]["spec"]
    dirs = {w["name"]: tmp_path / "ws" / w["name"] for w in spec.get("workspaces") or []}
    machine = Machine(
        tool_path=PATH, source_repo=REPO, build_script=REPO / "scripts" / "build-image.sh"
    )
    runner = PipelineRunner(
        found,
        "p",
        {},
        dirs,
        tmp_path / "runs",
        machine,
        Logbook(io.StringIO(), clock=False),
        run_params=run_params,
        run_workspaces=run_workspaces,
        coschedule=coschedule,
    )
    return runner.run()


def two_workspace_pipeline() -> list[dict[str, Any]]:
    both = task("both", "true\n", workspaces=[{"name": "a"}, {"name": "b"}])
    flow = pipeline(
        [
            {
                "name": "t",
                "taskRef": {"name": "both"},
                "workspaces": [{"name": "a", "workspace": "x"}, {"name": "b", "workspace": "y"}],
            }
        ],
        workspaces=[{"name": "x"}, {"name": "y"}],
    )
    return [both, flow]


PVCS = {
    "x": {"name": "x", "volumeClaimTemplate": {"spec": {}}},
    "y": {"name": "y", "persistentVolumeClaim": {"claimName": "cache"}},
}


def test_two_pvcs_in_one_taskrun_fail_it_under_coschedule_workspaces(tmp_path: Path) -> None:
    report = run(tmp_path, two_workspace_pipeline(), run_workspaces=PVCS)
    assert not report.succeeded
    assert report.outcomes["t"].reason.startswith(
        "TaskRunValidationFailed: more than one PersistentVolumeClaim is bound"
    )


def test_two_pvcs_are_fine_when_the_cluster_coschedules_per_pipelinerun(tmp_path: Path) -> None:
    report = run(tmp_path, two_workspace_pipeline(), run_workspaces=PVCS, coschedule="pipelineruns")
    assert report.succeeded


def test_one_pvc_and_an_empty_dir_are_fine(tmp_path: Path) -> None:
    workspaces = {**PVCS, "y": {"name": "y", "emptyDir": {}}}
    assert run(tmp_path, two_workspace_pipeline(), run_workspaces=workspaces).succeeded


def test_a_param_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    flow = pipeline([], params=[{"name": "args", "type": "array", "default": []}])
    with pytest.raises(ValueError, match="ParameterTypeMismatch: param 'args' must be an array"):
        run(tmp_path, [flow], run_params={"args": "--flag"})


def test_on_error_continue_keeps_the_run_going_and_results_flow(tmp_path: Path) -> None:
    flaky = task(
        "flaky",
        'printf "%s" 3 > "$(results.n.path)"\nexit 1\n',
        results=[{"name": "n", "description": "d"}],
    )
    silent = task("silent", "exit 1\n", results=[{"name": "n", "description": "d"}])
    ok = task(
        "ok",
        'printf "%s" done > "$(results.r.path)"\n',
        results=[{"name": "r", "description": "d"}],
    )
    flow = pipeline(
        [
            {"name": "lint", "taskRef": {"name": "flaky"}, "onError": "continue"},
            {"name": "quiet", "taskRef": {"name": "silent"}, "onError": "continue"},
            {"name": "after", "taskRef": {"name": "ok"}, "runAfter": ["lint", "quiet"]},
        ],
        results=[
            {"name": "findings", "description": "d", "value": "n=$(tasks.lint.results.n)"},
            {"name": "never", "description": "d", "value": "$(tasks.quiet.results.n)"},
            {"name": "last", "description": "d", "value": "$(tasks.after.results.r)"},
        ],
    )
    report = run(tmp_path, [flaky, silent, ok, flow])
    assert report.succeeded
    assert report.outcomes["lint"].status == "Failed"
    assert report.outcomes["lint"].reason.startswith("FailureIgnored")
    assert report.outcomes["after"].status == "Succeeded"
    # A result written before the failure is still emitted; one never written is not.
    assert report.results == {"findings": "n=3", "last": "done"}
    assert "never" in report.omitted


def test_a_failure_without_on_error_still_fails_the_run(tmp_path: Path) -> None:
    broken = task("broken", "exit 1\n")
    flow = pipeline([{"name": "b", "taskRef": {"name": "broken"}, "onError": "stopAndFail"}])
    assert not run(tmp_path, [broken, flow]).succeeded


def test_a_task_whose_tool_is_missing_is_said_first_and_never_a_pass(tmp_path: Path) -> None:
    scan = task("scan", "trivy image x\n", results=[{"name": "n", "description": "d"}])
    scan["spec"]["steps"][0]["image"] = "docker.io/aquasec/trivy:0.69.3@sha256:" + "1" * 64
    flow = pipeline(
        [{"name": "scan-image", "taskRef": {"name": "scan"}, "onError": "continue"}],
        results=[{"name": "vulns", "description": "d", "value": "$(tasks.scan-image.results.n)"}],
    )
    report = run(tmp_path, [scan, flow])
    assert report.not_run() == ["scan-image"]
    lines = summary(report, "p-local")
    assert lines[0].startswith("NOT RUN: scan-image")
    assert "never counted as a pass" in lines[0]
    assert any(line.split()[:2] == ["scan-image", "NOT"] for line in lines)
    assert report.results == {}
    # The pipeline result names why it is missing: NOT RUN, not an empty value.
    assert report.omitted["vulns"] == "NOT RUN (scan-image: ToolUnavailable: trivy)"
    assert any(line.endswith("results: NOT RUN") for line in lines)


def test_a_pipeline_workspace_the_run_does_not_bind_is_refused(tmp_path: Path) -> None:
    docs = two_workspace_pipeline()
    (tmp_path / "tekton").mkdir()
    (tmp_path / "tekton" / "all.yaml").write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    machine = Machine(
        tool_path=PATH, source_repo=REPO, build_script=REPO / "scripts" / "build-image.sh"
    )
    with pytest.raises(ValueError, match=r"workspaces not bound: \['y'\]"):
        PipelineRunner(
            resources.load(tmp_path / "tekton"),
            "p",
            {},
            {"x": tmp_path / "x"},
            tmp_path / "runs",
            machine,
            Logbook(io.StringIO(), clock=False),
        )
