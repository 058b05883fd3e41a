"""actionlint, with shellcheck over every run: block, finds nothing in the workflow; a
broken copy shows it looks (`make actionlint` runs the same from the command line)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gha_rules import WORKFLOW

ACTIONLINT = Path(sys.executable).with_name("actionlint")


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), "actionlint is not in the venv: run `make venv`"
    assert shutil.which("shellcheck"), "shellcheck is not installed: run `make apt`"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-oneline", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_finds_nothing() -> None:
    result = actionlint(WORKFLOW)
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("why", "old", "new", "expected"),
    [
        (
            "an unquoted variable (shellcheck)",
            'twine check --strict "dist/${wheel}"',
            "twine check --strict dist/$wheel",
            "SC2086",
        ),
        (
            "an unknown context in an expression",
            "${{ env.PYTHON_VERSION }}",
            "${{ envs.PYTHON_VERSION }}",
            "envs",
        ),
        ("a job that needs a missing job", "needs: [build-image]", "needs: [image]", "image"),
    ],
)
def test_actionlint_reports_a_broken_copy(
    tmp_path: Path, why: str, old: str, new: str, expected: str
) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert old in text
    copy = tmp_path / "ci.yml"
    copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = actionlint(copy)
    assert result.returncode == 1, why
    assert expected in result.stdout, result.stdout
