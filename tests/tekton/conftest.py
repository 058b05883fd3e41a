"""Shared paths and helpers for the Tekton tests.

The runner (tekton/runner) and the static checks (tekton/checks) are script
folders, not installed packages: they are put on sys.path here.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TEKTON = HERE.parents[1] / "tekton"

for folder in (TEKTON / "runner", TEKTON / "checks", HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@pytest.fixture
def tekton_copy(tmp_path: Path) -> Path:
    """A throw-away copy of tekton/ (its YAML and config) to break on purpose."""
    target = tmp_path / "tekton"
    shutil.copytree(
        TEKTON, target, ignore=shutil.ignore_patterns("runner", "checks", "__pycache__")
    )
    return target


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replace one exact snippet in a file; fails loudly if the snippet is gone."""

    def replace(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return replace
