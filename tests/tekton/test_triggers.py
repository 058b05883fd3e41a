"""Triggers, RBAC and the kustomization: what no CRD schema covers here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tekton_testkit import TEKTON
from tektoncheck import documents, run_all, triggers

Edit = Callable[[Path, str, str], None]


def problems_of(root: Path) -> list[str]:
    return triggers.check(documents.load(root))


def test_the_real_triggers_rbac_and_kustomization_have_no_problem() -> None:
    assert problems_of(TEKTON) == []


def test_everything_together_is_clean(tmp_path: Path) -> None:
    from tekton_testkit import CRDS

    assert run_all(TEKTON, CRDS) == []


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "triggers/eventlistener.yaml",
            "- ref: github-push",
            "- ref: github-pushh",
            "missing TriggerBinding 'github-pushh'",
            id="binding-ref",
        ),
        pytest.param(
            "triggers/eventlistener.yaml",
            "template:\n        ref: python-ci",
            "template:\n        ref: python-cd",
            "missing TriggerTemplate 'python-cd'",
            id="template-ref",
        ),
        pytest.param(
            "triggers/eventlistener.yaml",
            "value: body.ref == 'refs/heads/main'",
            "value: body.ref != ''",
            "no cel filter on refs/heads/main",
            id="no-main-filter",
        ),
        pytest.param(
            "triggers/eventlistener.yaml",
            "                secretName: github-webhook-secret\n",
            "",
            "no secretRef",
            id="no-webhook-secret",
        ),
        pytest.param(
            "triggers/eventlistener.yaml",
            "  serviceAccountName: powerwatch-triggers",
            "  serviceAccount: powerwatch-triggers",
            "unknown field 'serviceAccount'",
            id="unknown-listener-field",
        ),
        pytest.param(
            "triggers/triggerbinding.yaml",
            "  - name: revision\n      value: $(body.after)",
            "  - name: rev\n      value: $(body.after)",
            "binding param 'rev' is not a TriggerTemplate param",
            id="binding-param-name",
        ),
        pytest.param(
            "triggers/triggertemplate.yaml",
            "value: $(tt.params.revision)",
            "value: $(tt.params.revison)",
            "undeclared TriggerTemplate param 'revison'",
            id="template-param-typo",
        ),
        pytest.param(
            "triggers/triggertemplate.yaml",
            "      metadata:\n        generateName: python-ci-gateway-",
            "      metadata:\n        name: python-ci-gateway",
            "generateName",
            id="template-fixed-name",
        ),
        pytest.param(
            "triggers/triggertemplate.yaml",
            "          name: python-ci\n",
            "          name: python-cd\n",
            "pipelineRef 'python-cd' not found",
            id="template-pipeline-ref",
        ),
        pytest.param(
            "rbac/triggers-role.yaml",
            "  kind: Role\n  name: powerwatch-triggers\n",
            "  kind: Role\n  name: admin\n",
            "roleRef Role 'admin' is not defined",
            id="rolebinding-ref",
        ),
        pytest.param(
            "rbac/triggers-role.yaml",
            'verbs: ["create"]',
            'verbs: ["*"]',
            "wildcard rule",
            id="wildcard-verbs",
        ),
        pytest.param(
            "kustomization.yaml",
            "  - tasks/summary/summary.yaml\n",
            "",
            "does not install 'tasks/summary/summary.yaml'",
            id="kustomization-missing-entry",
        ),
        pytest.param(
            "kustomization.yaml",
            "  - tasks/scan-gate/scan-gate.yaml\n",
            "  - tasks/scan-gate/scan-gat.yaml\n",
            "lists missing file 'tasks/scan-gate/scan-gat.yaml'",
            id="kustomization-missing-file",
        ),
    ],
)
def test_a_broken_trigger_or_rbac_is_reported(
    tekton_copy: Path, edit: Edit, file: str, old: str, new: str, expected: str
) -> None:
    edit(tekton_copy / file, old, new)
    found = problems_of(tekton_copy)
    assert any(expected in problem for problem in found), found


def test_the_command_line_reports_problems_and_exits_non_zero(
    tekton_copy: Path, edit: Edit, capsys: pytest.CaptureFixture[str]
) -> None:
    from tekton_testkit import CRDS
    from tektoncheck.__main__ import main

    assert main([str(TEKTON), "--crds", str(CRDS)]) == 0
    edit(tekton_copy / "triggers/triggerbinding.yaml", "$(body.after)", "main")
    assert main([str(tekton_copy), "--crds", str(CRDS)]) == 1
    assert "does not come from the event" in capsys.readouterr().out
