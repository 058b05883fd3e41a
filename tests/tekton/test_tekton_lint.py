"""@ibm/tekton-lint (npm, locked in package-lock.json) with zero errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tekton_testkit import REPO, TEKTON

LINTER = REPO / "node_modules" / ".bin" / "tekton-lint"


def tekton_lint(root: Path) -> list[dict[str, Any]]:
    assert LINTER.exists(), "run `make node` first (npm ci from package-lock.json)"
    result = subprocess.run(
        [str(LINTER), "--config", str(root), "--format", "json", f"{root}/**/*.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )
    assert result.stdout.strip().startswith("["), result.stdout + result.stderr
    problems: list[dict[str, Any]] = json.loads(result.stdout)
    return problems


def errors(problems: list[dict[str, Any]]) -> list[str]:
    return [f"{p.get('path')}: {p.get('message')}" for p in problems if p.get("level") == "error"]


def test_no_errors_on_the_pipeline() -> None:
    assert errors(tekton_lint(TEKTON)) == []


def test_the_linter_reports_an_undefined_param(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    edit(
        tekton_copy / "tasks/lint/lint.yaml",
        "value: $(params.DOCKERFILE)",
        "value: $(params.DOKERFILE)",
    )
    found = errors(tekton_lint(tekton_copy))
    assert any("DOKERFILE" in message for message in found), found
