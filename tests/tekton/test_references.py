"""The project's own cross-reference checks, each shown to fail on a broken copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tekton_testkit import TEKTON
from tektoncheck import documents, references

Edit = Callable[[Path, str, str], None]
PIPELINE = "pipeline/python-ci.yaml"


def problems_of(root: Path) -> list[str]:
    return references.check(documents.load(root))


def test_the_real_resources_have_no_problem() -> None:
    assert problems_of(TEKTON) == []


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "tasks/lint/lint.yaml",
            "value: $(params.DOCKERFILE)",
            "value: $(params.DOKERFILE)",
            "undeclared param 'DOKERFILE'",
            id="misspelled-task-param",
        ),
        pytest.param(
            "tasks/lint/lint.yaml",
            '$(workspaces.reports.path)"',
            '$(workspaces.report.path)"',
            "undeclared workspace 'report'",
            id="misspelled-workspace",
        ),
        pytest.param(
            "tasks/build-wheel/build-wheel.yaml",
            '"$(results.WHEEL.path)"',
            '"$(results.WHEL.path)"',
            "undeclared result 'WHEL'",
            id="misspelled-result",
        ),
        pytest.param(
            "tasks/unit-test/unit-test.yaml",
            'cp -R "${APP_PATH}/."',
            'cp -R "$(params.APP_PATH)/."',
            "inside script",
            id="param-inside-script",
        ),
        pytest.param(
            "tasks/scan-image/scan-image.yaml",
            "  results:\n",
            "  results:\n    - name: NEGLIGIBLE\n      description: never written\n",
            "'NEGLIGIBLE' is declared but never written",
            id="result-never-written",
        ),
        pytest.param(
            "tasks/summary/summary.yaml",
            "      description: The run's aggregate status, $(tasks.status).\n",
            "",
            "has no description",
            id="param-without-description",
        ),
        pytest.param(
            PIPELINE,
            "value: $(params.app-path)\n",
            "value: $(params.app-pth)\n",
            "undeclared pipeline param 'app-pth'",
            id="misspelled-pipeline-param",
        ),
        pytest.param(
            PIPELINE,
            # The first APP_PATH of the pipeline is lint's.
            "        - name: APP_PATH\n",
            "        - name: APP_PTH\n",
            "passes param 'APP_PTH' its Task does not declare",
            id="param-the-task-lacks",
        ),
        pytest.param(
            PIPELINE,
            "        - name: trivy-cache\n          # This run's own database: concurrent runs"
            " never share a Trivy cache.\n"
            "          workspace: shared-data\n          subPath: cache/trivy\n",
            "",
            "does not bind required workspace 'trivy-cache'",
            id="unbound-task-workspace",
        ),
        pytest.param(
            PIPELINE,
            "          workspace: shared-data\n          subPath: cache/trivy\n",
            "          workspace: shared-dat\n          subPath: cache/trivy\n",
            "undeclared pipeline workspace 'shared-dat'",
            id="unknown-pipeline-workspace",
        ),
        pytest.param(
            PIPELINE,
            'runAfter: ["build-image"]',
            'runAfter: ["build-imag"]',
            "unknown task 'build-imag'",
            id="runafter-unknown-task",
        ),
        pytest.param(
            PIPELINE,
            "scan-image=$(tasks.scan-image.status)",
            "scan-image=$(tasks.scan-imag.status)",
            "unknown task 'scan-imag'",
            id="status-of-unknown-task",
        ),
        pytest.param(
            PIPELINE,
            "          value: $(params.scan-gate-severity)",
            "          value: $(tasks.status)",
            "outside finally",
            id="aggregate-status-outside-finally",
        ),
        pytest.param(
            PIPELINE,
            "value: c166e56217829ecc2062059030a8a0fcc0e1a88f",
            "value: v1.7.0",
            "revision must be a full commit SHA",
            id="resolver-git-unpinned",
        ),
        pytest.param(
            PIPELINE,
            "          - name: pathInRepo\n            value: task/git-clone/git-clone.yaml\n",
            "",
            "needs param 'pathInRepo'",
            id="resolver-git-incomplete",
        ),
        pytest.param(
            PIPELINE,
            "resolver: git",
            "resolver: gti",
            "unknown resolver 'gti'",
            id="unknown-resolver",
        ),
        pytest.param(
            PIPELINE,
            "        - name: url\n          value: $(params.repo-url)\n",
            "",
            "does not pass required param 'url'",
            id="resolver-task-missing-required-param",
        ),
        pytest.param(
            "runs/python-ci-run.yaml",
            "    - name: app-path\n",
            "    - name: app-pth\n",
            "passes undeclared param 'app-pth'",
            id="run-unknown-param",
        ),
        pytest.param(
            "runs/python-ci-run.yaml",
            "    - name: shared-data\n",
            "    - name: shared-dat\n",
            "does not bind workspace 'shared-data'",
            id="run-unbound-workspace",
        ),
        pytest.param(
            "runs/scan-image-taskrun.yaml",
            "generateName: scan-image-",
            "name: scan-image",
            "generateName",
            id="run-without-generate-name",
        ),
        pytest.param(
            "runs/python-ci-run.yaml",
            "serviceAccountName: powerwatch-pipeline",
            "serviceAccountName: default-sa",
            "'default-sa' is not defined",
            id="run-unknown-service-account",
        ),
    ],
)
def test_a_broken_reference_is_reported(
    tekton_copy: Path, edit: Edit, file: str, old: str, new: str, expected: str
) -> None:
    edit(tekton_copy / file, old, new)
    found = problems_of(tekton_copy)
    assert any(expected in problem for problem in found), found


def test_a_reader_running_alongside_the_writer_is_reported(tekton_copy: Path, edit: Edit) -> None:
    # Without runAfter, lint would read source/ while fetch-source is still cloning it.
    edit(
        tekton_copy / PIPELINE,
        '    - name: lint\n      runAfter: ["fetch-source"]\n',
        "    - name: lint\n",
    )
    found = problems_of(tekton_copy)
    assert any("'fetch-source' and 'lint' share shared-data/source" in p for p in found), found
    assert any("'lint' reads shared-data/source before any task writes it" in p for p in found), (
        found
    )


def test_parallel_writers_of_one_folder_are_reported(tekton_copy: Path, edit: Edit) -> None:
    # unit-test writing its reports into lint's folder while lint runs.
    edit(tekton_copy / PIPELINE, "subPath: reports/unit-test", "subPath: reports/lint")
    found = problems_of(tekton_copy)
    assert any("'lint' and 'unit-test' share shared-data/reports/lint" in p for p in found), found


def test_a_dependency_cycle_is_reported(tekton_copy: Path, edit: Edit) -> None:
    edit(
        tekton_copy / PIPELINE,
        '    - name: lint\n      runAfter: ["fetch-source"]',
        '    - name: lint\n      runAfter: ["fetch-source", "scan-image"]',
    )
    edit(tekton_copy / PIPELINE, 'runAfter: ["build-image"]', 'runAfter: ["build-image", "lint"]')
    found = problems_of(tekton_copy)
    assert any("dependency cycle" in p for p in found), found
