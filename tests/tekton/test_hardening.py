"""Hardening: images pinned by digest, restricted non-root steps, limits, timeouts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tekton_testkit import TEKTON
from tektoncheck import documents, hardening

Edit = Callable[[Path, str, str], None]
TRIVY_DIGEST = "@sha256:bcc376de8d77cfe086a917230e818dc9f8528e3c852f7b1aff648949b6258d1c"


def problems_of(root: Path) -> list[str]:
    return hardening.check(documents.load(root))


def test_the_real_tasks_are_hardened() -> None:
    assert problems_of(TEKTON) == []


def test_only_the_kaniko_step_runs_as_root() -> None:
    repo = documents.load(TEKTON)
    roots = {
        (doc.name, step)
        for doc in repo.of_kind("Task")
        for step in str(
            (doc.body["metadata"].get("annotations") or {}).get(hardening.ROOT_STEPS, "")
        ).split(",")
        if step
    }
    assert roots == {("build-image", "build")}


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "tasks/scan-image/scan-image.yaml",
            TRIVY_DIGEST,
            "",
            "not pinned by digest",
            id="unpinned-image",
        ),
        pytest.param(
            "tasks/summary/summary.yaml",
            "      runAsNonRoot: true\n",
            "",
            "does not run as non-root",
            id="root-step",
        ),
        pytest.param(
            "tasks/lint/lint.yaml",
            "      allowPrivilegeEscalation: false\n",
            "",
            "privilege escalation",
            id="privilege-escalation",
        ),
        pytest.param(
            "tasks/unit-test/unit-test.yaml",
            '        drop: ["ALL"]\n',
            '        drop: ["NET_RAW"]\n',
            "does not drop ALL",
            id="capabilities-kept",
        ),
        pytest.param(
            "tasks/build-wheel/build-wheel.yaml",
            "        type: RuntimeDefault\n",
            "        type: Unconfined\n",
            "seccomp",
            id="no-seccomp",
        ),
        pytest.param(
            "tasks/build-image/build-image.yaml",
            "powerwatch.dev/root-steps: build",
            "powerwatch.dev/root-steps: built",
            "does not run as non-root",
            id="undocumented-root-step",
        ),
        pytest.param(
            "tasks/summary/summary.yaml",
            "      limits:\n        cpu: 250m\n        memory: 128Mi\n",
            "",
            "no resource requests and limits",
            id="no-limits",
        ),
        pytest.param(
            "pipeline/python-ci.yaml", "      timeout: 5m\n", "", "has no timeout", id="no-timeout"
        ),
    ],
)
def test_a_weakened_task_is_reported(
    tekton_copy: Path, edit: Edit, file: str, old: str, new: str, expected: str
) -> None:
    edit(tekton_copy / file, old, new)
    found = problems_of(tekton_copy)
    assert any(expected in problem for problem in found), found


def test_every_pinned_image_names_its_public_source() -> None:
    # A digest without a comment saying where it comes from is not reviewable.
    for task in (TEKTON / "tasks").glob("*/*.yaml"):
        lines = task.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if "@sha256:" in line and "default:" in line:
                comment = "\n".join(lines[max(0, index - 4) : index])
                assert "#" in comment, (task, line)
                assert "public" in comment or "catalog" in comment, (task, line)
