"""The real Task YAML of tekton/ run by the local runner, where that is fast here."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from localrun import resources
from localrun.logbook import Logbook
from localrun.taskrun import Machine, run_task
from tekton_testkit import REPO, TEKTON

MACHINE = Machine(
    tool_path=f"{Path(sys.executable).parent}:/usr/bin:/bin",
    source_repo=REPO,
    build_script=REPO / "scripts" / "build-image.sh",
)


def test_the_summary_task_prints_statuses_and_the_results_left_in_the_workspace(
    tmp_path: Path,
) -> None:
    spec = resources.load(TEKTON).tasks["summary"]["spec"]
    outputs = tmp_path / "outputs"
    (outputs / "reports" / "lint").mkdir(parents=True)
    (outputs / "reports" / "lint" / "results.json").write_text(
        json.dumps({"task": "lint", "RUFF_FINDINGS": 3}), encoding="utf-8"
    )
    (outputs / "image").mkdir()
    (outputs / "image" / "image-name-with-digest").write_text("gw:ci@sha256:abc", encoding="utf-8")
    out = io.StringIO()
    outcome = run_task(
        "summary",
        spec,
        {"TASK_STATUSES": "lint=Succeeded unit-test=Failed", "AGGREGATE_STATUS": "Failed"},
        {"outputs": outputs},
        tmp_path / "run",
        MACHINE,
        Logbook(out, clock=False),
        timeout=60,
    )
    log = out.getvalue()
    assert outcome.status == "Succeeded", log
    assert "[summary : print] pipeline: Failed" in log
    assert "unit-test      Failed" in log
    assert "RUFF_FINDINGS=3" in log
    assert "IMAGE=gw:ci@sha256:abc" in log


def test_the_scan_task_says_plainly_that_trivy_did_not_run(tmp_path: Path) -> None:
    spec = resources.load(TEKTON).tasks["scan-image"]["spec"]
    folders = {name: tmp_path / name for name in ("image", "reports", "trivy-cache")}
    for folder in folders.values():
        folder.mkdir()
    out = io.StringIO()
    no_trivy = Machine(
        tool_path="/usr/bin:/bin", source_repo=REPO, build_script=MACHINE.build_script
    )
    outcome = run_task(
        "scan-image",
        spec,
        {},
        dict(folders),
        tmp_path / "run",
        no_trivy,
        Logbook(out, clock=False),
        60,
    )
    assert outcome.status == "None"
    assert outcome.results == {}
    assert "NOT RUN: 'trivy' is not installed" in out.getvalue()


def build_image_task(tmp_path: Path, wheel: bytes, reported_sha256: str) -> tuple[str, str]:
    """The real build-image Task with a dist workspace holding WHEEL; status and log."""
    spec = resources.load(TEKTON).tasks["build-image"]["spec"]
    name = "demo-1.0-py3-none-any.whl"
    folders = {n: tmp_path / n for n in ("source", "dist", "image")}
    for folder in folders.values():
        folder.mkdir()
    (folders["source"] / "apps" / "gateway").mkdir(parents=True)
    (folders["dist"] / name).write_bytes(wheel)
    out = io.StringIO()
    outcome = run_task(
        "build-image",
        spec,
        {"WHEEL": name, "WHEEL_SHA256": reported_sha256},
        dict(folders),
        tmp_path / "run",
        MACHINE,
        Logbook(out, clock=False),
        60,
    )
    return outcome.status, out.getvalue()


def test_build_image_refuses_a_wheel_other_than_the_one_build_wheel_reported(
    tmp_path: Path,
) -> None:
    status, log = build_image_task(tmp_path, b"not the reported bytes", "0" * 64)
    assert status == "Failed"
    assert "build-wheel reported 0000" in log
    # Refused before the build: no context was assembled, Kaniko's step never ran.
    assert not (tmp_path / "image" / "context").exists()
    assert "stand-in" not in log
