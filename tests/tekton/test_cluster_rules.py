"""tektoncheck.cluster: what a default Tekton v1.x install refuses, one broken copy per rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from tekton_testkit import TEKTON
from tektoncheck import cluster, documents

Edit = Callable[[Path, str, str], None]
PIPELINE = "pipeline/python-ci.yaml"
RUN = "runs/python-ci-run.yaml"
TEMPLATE = "triggers/triggertemplate.yaml"


def problems_of(root: Path) -> list[str]:
    return cluster.check(documents.load(root))


def test_the_real_resources_follow_the_cluster_rules() -> None:
    assert problems_of(TEKTON) == []


def test_a_second_pvc_in_one_taskrun_is_reported(tekton_copy: Path, edit: Edit) -> None:
    # A Trivy cache kept in its own PVC beside the run's PVC: the affinity assistant
    # (coschedule: workspaces) refuses scan-image's TaskRun.
    edit(
        tekton_copy / PIPELINE,
        "          workspace: shared-data\n          subPath: cache/trivy\n",
        "          workspace: trivy-cache\n",
    )
    edit(
        tekton_copy / PIPELINE,
        "  results:\n    - name: commit\n",
        "    - name: trivy-cache\n      description: kept between runs\n"
        "  results:\n    - name: commit\n",
    )
    edit(
        tekton_copy / RUN,
        "          storage: 4Gi\n",
        "          storage: 4Gi\n    - name: trivy-cache\n      persistentVolumeClaim:\n"
        "        claimName: powerwatch-trivy-cache\n",
    )
    found = problems_of(tekton_copy)
    assert any("task 'scan-image' would bind 2 PVCs" in p for p in found), found


def test_a_taskrun_with_two_claims_is_reported(tekton_copy: Path, edit: Edit) -> None:
    edit(
        tekton_copy / "runs/scan-image-taskrun.yaml",
        "    - name: trivy-cache\n      emptyDir: {}\n",
        "    - name: trivy-cache\n      persistentVolumeClaim:\n        claimName: trivy\n",
    )
    found = problems_of(tekton_copy)
    assert any("binds 2 PVCs" in p for p in found), found


@pytest.mark.parametrize("task", ["lint", "scan-image"])
def test_a_report_only_task_that_can_fail_the_run_is_reported(
    tekton_copy: Path, edit: Edit, task: str
) -> None:
    text = (tekton_copy / PIPELINE).read_text(encoding="utf-8")
    start = text.index(f"    - name: {task}\n")
    block = text[start : text.index("onError: continue", start) + len("onError: continue")]
    edit(tekton_copy / PIPELINE, block, block.replace("onError: continue", "onError: stopAndFail"))
    found = problems_of(tekton_copy)
    assert any(f"report-only task '{task}' must set onError: continue" in p for p in found), found


@pytest.mark.parametrize(
    ("file", "old", "expected"),
    [
        pytest.param(RUN, "        fsGroup: 65532\n", "fsGroup: 65532", id="run-without-fsgroup"),
        pytest.param(
            TEMPLATE,
            "              fsGroupChangePolicy: OnRootMismatch\n",
            "fsGroupChangePolicy",
            id="trigger-without-change-policy",
        ),
    ],
)
def test_a_run_whose_non_root_steps_cannot_write_the_pvc_is_reported(
    tekton_copy: Path, edit: Edit, file: str, old: str, expected: str
) -> None:
    edit(tekton_copy / file, old, "")
    found = problems_of(tekton_copy)
    assert any(expected in p for p in found), found


def test_a_pipeline_result_without_a_task_result_is_reported(tekton_copy: Path, edit: Edit) -> None:
    edit(
        tekton_copy / PIPELINE,
        "      value: $(finally.summary.results.REPORTS)\n",
        "      value: reports/lint reports/unit-test\n",
    )
    found = problems_of(tekton_copy)
    assert any("pipeline result 'reports' references no task result" in p for p in found), found


def test_the_verification_policy_matches_the_git_clone_the_pipeline_fetches() -> None:
    # Tekton matches a policy's pattern against the whole source URL (regexp, anchored).
    policy = yaml.safe_load(
        (TEKTON / "policy/git-clone-verification.yaml").read_text(encoding="utf-8")
    )
    pipeline = yaml.safe_load((TEKTON / PIPELINE).read_text(encoding="utf-8"))
    fetch = next(t for t in pipeline["spec"]["tasks"] if t["name"] == "fetch-source")
    url = next(p["value"] for p in fetch["taskRef"]["params"] if p["name"] == "url")
    patterns = [r["pattern"] for r in policy["spec"]["resources"]]
    assert any(re.fullmatch(p, url) for p in patterns)
    assert not any(re.fullmatch(p, "https://github.com/tektoncd/catalog.git") for p in patterns)
    assert policy["spec"]["mode"] == "enforce"
