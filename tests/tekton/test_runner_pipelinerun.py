"""The local runner on tiny synthetic pipelines: order, results, failure, finally."""

from __future__ import annotations

import io
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from localrun import resources
from localrun.logbook import Logbook
from localrun.pipelinerun import PipelineRunner, RunReport, parse_duration
from localrun.taskrun import Machine
from tekton_testkit import REPO

IMAGE = "docker.io/library/python:3.11-slim@sha256:" + "0" * 64
PATH = f"{Path(sys.executable).parent}:/usr/bin:/bin"


def task(name: str, script: str, **spec: Any) -> dict[str, Any]:
    """A one-step Task whose script is ``script``."""
    body: dict[str, Any] = {
        "params": [],
        "steps": [
            {
                "name": "run",
                "image": IMAGE,
                "script": "#!/bin/sh\nset -eu\n" + textwrap.dedent(script),
            }
        ],
    }
    body.update(spec)
    return {"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": name}, "spec": body}


def pipeline(
    tasks: list[dict[str, Any]], final: list[dict[str, Any]] | None = None, **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"tasks": tasks, "finally": final or []}
    body.update(spec)
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "p"},
        "spec": body,
    }


def run(
    tmp_path: Path, docs: list[dict[str, Any]], params: dict[str, Any] | None = None
) -> tuple[RunReport, str]:
    (tmp_path / "tekton").mkdir()
    (tmp_path / "tekton" / "all.yaml").write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    found = resources.load(tmp_path / "tekton")
    spec = found.pipelines["p"]["spec"]
    dirs = {w["name"]: tmp_path / "ws" / w["name"] for w in spec.get("workspaces") or []}
    out = io.StringIO()
    machine = Machine(
        tool_path=PATH, source_repo=REPO, build_script=REPO / "scripts" / "build-image.sh"
    )
    runner = PipelineRunner(
        found, "p", params or {}, dirs, tmp_path / "runs", machine, Logbook(out, clock=False)
    )
    return runner.run(), out.getvalue()


def test_results_flow_to_later_tasks_and_params_reach_steps_through_env(tmp_path: Path) -> None:
    producer = task(
        "produce",
        'printf "%s" "v-${WORD}" > "$(results.out.path)"\n',
        params=[{"name": "WORD", "type": "string"}],
        results=[{"name": "out", "description": "d"}],
    )
    producer["spec"]["steps"][0]["env"] = [{"name": "WORD", "value": "$(params.WORD)"}]
    consumer = task(
        "consume",
        'test "${GOT}" = "v-hello"\nprintf "%s" "${GOT}!" > "$(results.seen.path)"\n',
        params=[{"name": "GOT", "type": "string"}],
        results=[{"name": "seen", "description": "d"}],
    )
    consumer["spec"]["steps"][0]["env"] = [{"name": "GOT", "value": "$(params.GOT)"}]
    flow = pipeline(
        [
            {
                "name": "a",
                "taskRef": {"name": "produce"},
                "params": [{"name": "WORD", "value": "$(params.word)"}],
            },
            {
                "name": "b",
                "taskRef": {"name": "consume"},
                "params": [{"name": "GOT", "value": "$(tasks.a.results.out)"}],
            },
        ],
        params=[{"name": "word", "type": "string", "default": "hello"}],
    )
    report, log = run(tmp_path, [producer, consumer, flow])
    assert report.succeeded, log
    assert report.outcomes["b"].results == {"seen": "v-hello!"}
    assert report.order == ["a", "b"]  # b waited for a's result without any runAfter


def test_parallel_branches_really_run_at_the_same_time(tmp_path: Path) -> None:
    # Each branch waits (bounded) for the other's marker: only concurrency lets both finish.
    meet = task(
        "meet",
        """
        touch "$(workspaces.shared.path)/${ME}"
        i=0
        while [ ! -e "$(workspaces.shared.path)/${OTHER}" ]; do
          i=$((i + 1)); [ "$i" -lt 200 ] || exit 1; sleep 0.05
        done
        """,
        params=[{"name": "ME"}, {"name": "OTHER"}],
        workspaces=[{"name": "shared"}],
    )
    meet["spec"]["steps"][0]["env"] = [
        {"name": "ME", "value": "$(params.ME)"},
        {"name": "OTHER", "value": "$(params.OTHER)"},
    ]
    ws = [{"name": "shared", "workspace": "data"}]
    flow = pipeline(
        [
            {
                "name": "left",
                "taskRef": {"name": "meet"},
                "workspaces": ws,
                "params": [{"name": "ME", "value": "l"}, {"name": "OTHER", "value": "r"}],
            },
            {
                "name": "right",
                "taskRef": {"name": "meet"},
                "workspaces": ws,
                "params": [{"name": "ME", "value": "r"}, {"name": "OTHER", "value": "l"}],
            },
        ],
        workspaces=[{"name": "data"}],
    )
    report, log = run(tmp_path, [meet, flow])
    assert report.succeeded, log


def test_a_failure_stops_the_run_and_finally_still_reports(tmp_path: Path) -> None:
    ok = task(
        "ok",
        'printf "%s" fine > "$(results.r.path)"\n',
        results=[{"name": "r", "description": "d"}],
    )
    broken = task("broken", "echo failing on purpose\nexit 3\n")
    report_task = task(
        "report",
        'echo "statuses: ${S}"\ntest "${S}" = "a=Succeeded b=Failed c=None all=Failed"\n',
        params=[{"name": "S"}],
    )
    report_task["spec"]["steps"][0]["env"] = [{"name": "S", "value": "$(params.S)"}]
    needs_result = task("needs", "true\n", params=[{"name": "X"}])
    flow = pipeline(
        [
            {"name": "a", "taskRef": {"name": "ok"}},
            {"name": "b", "taskRef": {"name": "broken"}, "runAfter": ["a"]},
            {"name": "c", "taskRef": {"name": "ok"}, "runAfter": ["b"]},
        ],
        final=[
            {
                "name": "summary",
                "taskRef": {"name": "report"},
                "params": [
                    {
                        "name": "S",
                        "value": "a=$(tasks.a.status) b=$(tasks.b.status)"
                        " c=$(tasks.c.status) all=$(tasks.status)",
                    }
                ],
            },
            {
                "name": "uses-missing",
                "taskRef": {"name": "needs"},
                "params": [{"name": "X", "value": "$(tasks.c.results.r)"}],
            },
        ],
    )
    report, log = run(tmp_path, [ok, broken, report_task, needs_result, flow])
    assert not report.succeeded
    assert report.outcomes["b"].status == "Failed"
    assert report.outcomes["c"].reason == "PipelineRunStopping"
    assert report.outcomes["summary"].status == "Succeeded", log
    # Tekton skips a finally task whose result reference was never produced.
    assert report.outcomes["uses-missing"].status == "None"
    assert "[b : run] failing on purpose" in log


def test_on_error_continue_and_when_expressions(tmp_path: Path) -> None:
    tolerant = task("tolerant", "exit 1\n")
    tolerant["spec"]["steps"][0]["onError"] = "continue"
    flow = pipeline(
        [
            {"name": "t", "taskRef": {"name": "tolerant"}},
            {
                "name": "gated",
                "taskRef": {"name": "tolerant"},
                "when": [{"input": "$(params.gate)", "operator": "in", "values": ["on"]}],
            },
        ],
        params=[{"name": "gate", "type": "string", "default": "off"}],
    )
    report, _ = run(tmp_path, [tolerant, flow])
    assert report.succeeded
    assert report.outcomes["t"].status == "Succeeded"
    assert report.outcomes["gated"].reason == "WhenExpressionsSkip"


def test_a_task_timeout_fails_the_run(tmp_path: Path) -> None:
    slow = task("slow", "sleep 30\n")
    flow = pipeline([{"name": "s", "taskRef": {"name": "slow"}, "timeout": "1s"}])
    report, _ = run(tmp_path, [slow, flow])
    assert not report.succeeded
    assert report.outcomes["s"].reason == "TaskRunTimeout"


def test_a_step_whose_tool_is_missing_is_reported_not_run(tmp_path: Path) -> None:
    scan = task("scan", "trivy image x\n")
    scan["spec"]["steps"][0]["image"] = "docker.io/aquasec/trivy:0.69.3@sha256:" + "1" * 64
    flow = pipeline([{"name": "scan", "taskRef": {"name": "scan"}}])
    report, log = run(tmp_path, [scan, flow])
    assert report.succeeded
    assert report.outcomes["scan"].status == "None"
    assert "NOT RUN: 'trivy' is not installed" in log


def test_a_missing_required_param_is_a_configuration_error(tmp_path: Path) -> None:
    flow = pipeline([], params=[{"name": "repo-url", "type": "string"}])
    with pytest.raises(ValueError, match="repo-url"):
        run(tmp_path, [flow])


def test_durations_parse_like_go() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90s") == 90
    assert parse_duration(None) is None
    with pytest.raises(ValueError, match="unit"):
        parse_duration("15")


def test_the_command_line_runs_a_pipelinerun_file_and_exits_as_the_run_ends(
    tmp_path: Path,
) -> None:
    import run_local

    (tmp_path / "tekton").mkdir()
    broken = task("broken", "exit 1\n")
    docs = [broken, pipeline([{"name": "b", "taskRef": {"name": "broken"}}])]
    (tmp_path / "tekton" / "p.yaml").write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    run_file = tmp_path / "run.yaml"
    run_doc = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"generateName": "p-"},
        "spec": {"pipelineRef": {"name": "p"}},
    }
    run_file.write_text(yaml.safe_dump(run_doc), encoding="utf-8")
    common = [
        str(run_file),
        "--tekton-dir",
        str(tmp_path / "tekton"),
        "--no-clock",
        "--workdir",
        str(tmp_path / "w"),
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    timings = tmp_path / "timings.json"
    report = tmp_path / "run.html"
    assert run_local.main([*common, "--timings-json", str(timings), "--report", str(report)]) == 1
    assert set(json.loads(timings.read_text(encoding="utf-8"))["per_task"]) == {"b"}
    assert 'data-task="b" data-status="Failed"' in report.read_text(encoding="utf-8")
    assert run_local.main([*common, "-p", "nope=1"]) == 2
    run_doc["spec"]["pipelineRef"]["name"] = "missing"
    run_file.write_text(yaml.safe_dump(run_doc), encoding="utf-8")
    assert run_local.main(common) == 2


def test_a_step_that_cannot_start_fails_its_task_instead_of_crashing(tmp_path: Path) -> None:
    odd = task("odd", "")
    odd["spec"]["steps"][0]["script"] = "#!/nonexistent/interpreter\nprint('never')\n"
    report, log = run(tmp_path, [odd, pipeline([{"name": "o", "taskRef": {"name": "odd"}}])])
    assert not report.succeeded
    assert report.outcomes["o"].reason == "step 'run' exited with 127"
    assert "cannot start" in log


def test_a_write_into_a_read_only_workspace_fails_the_task(tmp_path: Path) -> None:
    # A cluster mounts a readOnly workspace read only; locally the runner detects the write.
    sneaky = task(
        "sneaky",
        'echo x > "$(workspaces.src.path)/new-file"\n',
        workspaces=[{"name": "src", "readOnly": True}],
    )
    polite = task(
        "polite",
        'cat "$(workspaces.src.path)/seed"\n',
        workspaces=[{"name": "src", "readOnly": True}],
    )
    seed = task(
        "seed", 'echo hello > "$(workspaces.src.path)/seed"\n', workspaces=[{"name": "src"}]
    )
    ws = [{"name": "src", "workspace": "data"}]
    flow = pipeline(
        [
            {"name": "seed", "taskRef": {"name": "seed"}, "workspaces": ws},
            {
                "name": "polite",
                "taskRef": {"name": "polite"},
                "workspaces": ws,
                "runAfter": ["seed"],
            },
            {
                "name": "sneaky",
                "taskRef": {"name": "sneaky"},
                "workspaces": ws,
                "runAfter": ["polite"],
            },
        ],
        workspaces=[{"name": "data"}],
    )
    report, log = run(tmp_path, [seed, polite, sneaky, flow])
    assert report.outcomes["polite"].status == "Succeeded", log
    assert report.outcomes["sneaky"].status == "Failed"
    assert "read-only workspace 'src'" in report.outcomes["sneaky"].reason


def test_a_fetch_outside_a_git_repository_fails_the_task_not_the_runner(tmp_path: Path) -> None:
    (tmp_path / "tekton").mkdir()
    bundle = {"resolver": "bundles", "params": [{"name": "name", "value": "git-clone"}]}
    flow = pipeline(
        [
            {
                "name": "fetch",
                "taskRef": bundle,
                "workspaces": [{"name": "output", "workspace": "data"}],
            }
        ],
        workspaces=[{"name": "data"}],
    )
    (tmp_path / "tekton" / "p.yaml").write_text(yaml.safe_dump(flow), encoding="utf-8")
    found = resources.load(tmp_path / "tekton")
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    machine = Machine(
        tool_path=PATH, source_repo=not_a_repo, build_script=REPO / "scripts" / "build-image.sh"
    )
    out = io.StringIO()
    runner = PipelineRunner(
        found,
        "p",
        {},
        {"data": tmp_path / "ws"},
        tmp_path / "runs",
        machine,
        Logbook(out, clock=False),
    )
    report = runner.run()
    assert not report.succeeded
    assert report.outcomes["fetch"].reason.startswith("runner error:")
