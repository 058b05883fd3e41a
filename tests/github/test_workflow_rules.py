"""The workflow keeps issue 16's rules; a broken copy of it shows each rule can fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gha_rules import RULES, WORKFLOW, jobs


def workflow() -> str:
    return WORKFLOW.read_text(encoding="utf-8")


def broken(old: str, new: str) -> str:
    text = workflow()
    assert old in text, f"{old!r} is no longer in the workflow: update this test"
    return text.replace(old, new, 1)


@pytest.mark.parametrize("rule", RULES)
def test_the_workflow_keeps_the_rule(rule: str) -> None:
    assert RULES[rule](workflow()) == []


# (rule, what the copy breaks, old snippet, new snippet)
BREAKS = [
    (
        "five_jobs_in_order",
        "image before the tests",
        "needs: [unit-test, build-wheel]",
        "needs: [build-wheel]",
    ),
    (
        "five_jobs_in_order",
        "scan not after the image",
        "needs: [build-image]",
        "needs: [build-wheel]",
    ),
    ("five_jobs_in_order", "a job renamed", "\n  unit-test:\n", "\n  tests:\n"),
    (
        "failure_rules",
        "lint can fail the run",
        "    continue-on-error: true\n    permissions:",
        "    permissions:",
    ),
    (
        "failure_rules",
        "test failures ignored",
        "    timeout-minutes: 20\n    permissions:\n      contents: read\n    env:\n"
        "      REPORTS: reports/unit-test",
        "    timeout-minutes: 20\n    continue-on-error: true\n    permissions:\n"
        "      contents: read\n    env:\n      REPORTS: reports/unit-test",
    ),
    (
        "failure_rules",
        "a wheel check ignored",
        "      - name: build and check the wheel\n",
        "      - name: build and check the wheel\n        continue-on-error: true\n",
    ),
    (
        "failure_rules",
        "scan always passes",
        "continue-on-error: ${{ (inputs.scan-gate-severity",
        "continue-on-error: ${{ true || (inputs.scan-gate-severity",
    ),
    ("failure_rules", "gate never runs", "if: env.GATE_SEVERITY != ''", "if: false"),
    (
        "failure_rules",
        "gate on by default",
        'type: string\n        default: ""',
        'type: string\n        default: "CRITICAL"',
    ),
    (
        "pinned",
        "a tag instead of a SHA",
        "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae  # v5.0.5",
        "actions/cache@v5  # v5.0.5",
    ),
    (
        "pinned",
        "a SHA without its version",
        "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae  # v5.0.5",
        "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae",
    ),
    ("pinned", "a short SHA", "@3d3c42e5aac5ba805825da76410c181273ba90b1", "@3d3c42e5"),
    (
        "pinned",
        "Trivy by tag",
        "aquasec/trivy:0.69.3@sha256:bcc376de8d77cfe086a917230e818dc9f8528e3c852f7b1aff648949b6258d1c",
        "aquasec/trivy:0.69.3",
    ),
    ("least_privilege", "write-all by default", "permissions: {}", "permissions: write-all"),
    (
        "least_privilege",
        "a job that can push",
        "    permissions:\n      contents: read\n    env:\n      REPORTS: reports/unit-test",
        "    permissions:\n      contents: write\n    env:\n      REPORTS: reports/unit-test",
    ),
    (
        "least_privilege",
        "SARIF upload without its permission",
        "      security-events: write  # upload SARIF to code scanning\n"
        "      actions: read  # upload-sarif reads the run (private repositories)\n",
        "      actions: read\n",
    ),
    ("concurrency_group", "no concurrency", "concurrency:\n  group:", "x-concurrency:\n  group:"),
    ("triggers", "every branch", "branches: [main]", "branches: ['**']"),
    ("triggers", "no manual run", "  workflow_dispatch:\n", "  pull_request:\n"),
    (
        "artifacts_flow",
        "the image pushed",
        'docker build --file "${DOCKERFILE}"',
        'docker build --push --file "${DOCKERFILE}"',
    ),
    (
        "artifacts_flow",
        "the wheel not handed over",
        "          name: wheel\n          path: wheel\n",
        "          name: dist\n          path: wheel\n",
    ),
    (
        "caches",
        "no pip cache",
        "          cache: pip\n          cache-dependency-path: requirements/ci-lint.lock\n",
        "",
    ),
    (
        "caches",
        "a cache keyed on another job's lock",
        "            requirements/ci-test.lock\n            apps/gateway/requirements*.lock\n",
        "            requirements/ci-lint.lock\n            apps/gateway/requirements*.lock\n",
    ),
    ("caches", "no Trivy cache", "path: .trivy-cache", "path: .cache"),
]


@pytest.mark.parametrize(("rule", "why", "old", "new"), BREAKS, ids=[b[1] for b in BREAKS])
def test_a_broken_copy_breaks_the_rule(rule: str, why: str, old: str, new: str) -> None:
    assert RULES[rule](broken(old, new)), f"{rule} did not notice: {why}"


def test_every_rule_has_a_broken_copy() -> None:
    assert {b[0] for b in BREAKS} == set(RULES)


def python_steps(text: str) -> dict[str, str]:
    return {
        f"{name}/{step['name']}": step["run"]
        for name, job in jobs(text).items()
        for step in job["steps"]
        if step.get("shell") == "python"
    }


def test_the_inline_python_steps_pass_ruff(tmp_path: Path) -> None:
    """actionlint would hand `shell: python` steps to pyflakes, which is not installed:
    ruff checks them instead (the repository's rules, as for every module)."""
    steps = python_steps(workflow())
    assert len(steps) >= 2
    for number, source in enumerate(steps.values()):
        (tmp_path / f"step_{number}.py").write_text(source, encoding="utf-8")
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--isolated", "--select", "E9,F", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    (tmp_path / "broken.py").write_text("print(undefined_name)\n", encoding="utf-8")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--isolated", "--select", "E9,F", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "F821" in result.stdout
