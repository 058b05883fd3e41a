"""yamllint over tekton/ with its own config."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tekton_testkit import TEKTON


def yamllint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "-f",
            "parsable",
            "-c",
            str(root / ".yamllint.yaml"),
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_tekton_yaml_is_clean() -> None:
    result = yamllint(TEKTON)
    assert result.returncode == 0, result.stdout


def test_yamllint_catches_a_duplicate_key(
    tekton_copy: Path, edit: Callable[[Path, str, str], None]
) -> None:
    pipeline = tekton_copy / "pipeline" / "python-ci.yaml"
    edit(pipeline, "  name: python-ci\n", "  name: python-ci\n  name: python-ci-2\n")
    result = yamllint(tekton_copy)
    assert result.returncode != 0
    assert "duplication of key" in result.stdout
