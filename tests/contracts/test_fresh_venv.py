"""The venv step of both README commands, as a fresh machine runs it.

A new `python3 -m venv` starts with the pip that the interpreter bundles (23.2.1 on
Debian 12's Python 3.11 here), never upgraded by hand. The Makefile's own rule builds it
from requirements/lock.txt in a temporary folder, so this test runs the exact command
`make up` and `make test` run, not a copy of it. It may reuse the machine's pip cache,
never the repository's `.venv`.
"""

import ensurepip
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"

# One module of each locked runtime the README commands need, and the repo's packages.
IMPORTS = [
    "litestar",
    "duckdb",
    "duckdb_kql",
    "azure.kusto.data",
    "azure.eventhub.aio",
    "azure.identity.aio",
    "msgspec",
    "pytest",
    "pytest_cov",
    "coverage",
    "powerwatch_gateway",
    "powerwatch_api",
    "powerwatch_kusto",
    "powerwatch_local",
]


def make(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(ROOT), f"VENV={venv}", f"PYTHON={BASE_PYTHON}", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_a_fresh_venv_installs_from_the_lock_with_the_bundled_pip(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    built = make(venv, "venv")
    assert built.returncode == 0, built.stdout + built.stderr
    python = venv / "bin" / "python"

    pip = subprocess.run(
        [str(python), "-m", "pip", "--version"], capture_output=True, text=True, check=True
    )
    assert pip.stdout.startswith(f"pip {ensurepip.version()} "), pip.stdout

    imported = subprocess.run(
        [str(python), "-c", f"import {', '.join(IMPORTS)}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr

    # `make venv` a second time is a no-op: the stamp is newer than the lock.
    assert make(venv, "-q", "venv").returncode == 0


def test_the_venv_rule_installs_without_resolving() -> None:
    """The flags that keep pip off the index's newest releases stay in the rule."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    locked = next(line for line in makefile.splitlines() if line.startswith("PIP_LOCKED"))
    for flag in ("--no-deps", "--require-hashes", "--only-binary=:all:"):
        assert flag in locked
    assert "$(PY) -m pip check" in makefile
