"""The project's style rules: reported by name, apart from what Tekton refuses,
and still enforced on this repository's own files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from tekton_testkit import CRDS, TEKTON
from tektoncheck import documents, references, run_all, schema_problems, style
from tektoncheck.__main__ import main

Edit = Callable[[Path, str, str], None]


def test_the_real_resources_follow_every_style_rule() -> None:
    assert style.check(documents.load(TEKTON), CRDS) == []


def test_an_unnamed_step_is_a_style_problem_not_a_schema_error(
    tekton_copy: Path, edit: Edit
) -> None:
    edit(
        tekton_copy / "tasks/lint/lint.yaml",
        "    - name: ruff-and-bandit\n      image:",
        "    - image:",
    )
    repo = documents.load(tekton_copy)
    assert schema_problems(repo, CRDS) == []
    found = style.check(repo, CRDS)
    assert any(
        p.startswith("style/step-name-required: tasks/lint/lint.yaml (Task lint): spec.steps[")
        for p in found
    ), found


def test_a_beta_api_version_is_a_style_problem(tekton_copy: Path, edit: Edit) -> None:
    edit(
        tekton_copy / "runs/scan-image-taskrun.yaml",
        "apiVersion: tekton.dev/v1\n",
        "apiVersion: tekton.dev/v1beta1\n",
    )
    found = style.check(documents.load(tekton_copy), CRDS)
    assert any(
        p.startswith("style/api-version-v1: runs/scan-image-taskrun.yaml")
        and "must be tekton.dev/v1" in p
        for p in found
    ), found


def test_a_key_spelled_in_the_wrong_case_inline_is_a_style_problem(tmp_path: Path) -> None:
    run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "metadata": {"generateName": "t-"},
        "spec": {
            "taskSpec": {
                "workspaces": [{"name": "ws"}],
                "steps": [
                    {"name": "s", "image": "x", "workspaces": [{"name": "ws", "mountpath": "/w"}]}
                ],
            }
        },
    }
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(run), encoding="utf-8")
    repo = documents.load(tmp_path)
    assert schema_problems(repo, CRDS) == []
    assert style.check(repo, CRDS) == [
        "style/field-name-case: run.yaml (TaskRun t-): "
        "spec.taskSpec.steps[0].workspaces[0].mountpath should be spelled 'mountPath'"
    ]


@pytest.mark.parametrize(
    ("file", "old", "new", "rule"),
    [
        pytest.param(
            "tasks/unit-test/unit-test.yaml",
            'cp -R "${APP_PATH}/."',
            'cp -R "$(params.APP_PATH)/."',
            "style/no-param-in-script",
            id="param-inside-script",
        ),
        pytest.param(
            "tasks/summary/summary.yaml",
            "      description: The run's aggregate status, $(tasks.status).\n",
            "",
            "style/description-required",
            id="param-without-description",
        ),
        pytest.param(
            "runs/scan-image-taskrun.yaml",
            "generateName: scan-image-\n",
            "name: scan-image-by-hand\n",
            "style/run-generate-name",
            id="run-with-fixed-name",
        ),
        pytest.param(
            "pipeline/python-ci.yaml",
            "value: c166e56217829ecc2062059030a8a0fcc0e1a88f",
            "value: v1.7.0",
            "style/resolver-pinned",
            id="git-ref-by-tag",
        ),
        pytest.param(
            "pipeline/python-ci.yaml",
            "subPath: reports/unit-test",
            "subPath: reports/lint",
            "style/workspace-sharing-ordered",
            id="parallel-writers",
        ),
    ],
)
def test_a_project_rule_is_reported_by_its_name(
    tekton_copy: Path, edit: Edit, file: str, old: str, new: str, rule: str
) -> None:
    edit(tekton_copy / file, old, new)
    found = references.check(documents.load(tekton_copy))
    assert any(p.startswith(f"{rule}: ") for p in found), found


def test_a_tekton_rule_is_not_a_style_problem(tekton_copy: Path, edit: Edit) -> None:
    edit(tekton_copy / "tasks/lint/lint.yaml", "value: $(params.DOCKERFILE)", "value: $(params.X)")
    found = references.check(documents.load(tekton_copy))
    assert any("undeclared param 'X'" in p and not style.is_style(p) for p in found), found


def test_hardening_rules_are_style_rules(tekton_copy: Path, edit: Edit) -> None:
    edit(tekton_copy / "tasks/summary/summary.yaml", "      runAsNonRoot: true\n", "")
    found = run_all(tekton_copy, CRDS)
    assert any(p.startswith("style/hardening: ") and "non-root" in p for p in found), found


def test_the_command_reports_both_kinds_apart_and_fails_on_either(
    tekton_copy: Path, edit: Edit, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(TEKTON), "--crds", str(CRDS)]) == 0
    capsys.readouterr()
    edit(
        tekton_copy / "tasks/lint/lint.yaml",
        "    - name: ruff-and-bandit\n      image:",
        "    - image:",
    )
    assert main([str(tekton_copy), "--crds", str(CRDS)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "0 problem(s) Tekton would refuse" in out
    refused_end = out.index("0 problem(s) Tekton would refuse")
    assert any(line.startswith("style/step-name-required: ") for line in out[refused_end:])
    assert out[-1].startswith("1 style problem(s)")
