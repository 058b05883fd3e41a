"""shellcheck over every shell script of every Task (Debian's shellcheck, via make apt)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from tekton_testkit import TEKTON

TEKTON_VARIABLE = re.compile(r"\$\((?:params|workspaces|results|context)\.[^)]*\)")


def shell_scripts() -> list[tuple[str, str]]:
    found = []
    for path in sorted((TEKTON / "tasks").glob("*/*.yaml")):
        task = yaml.safe_load(path.read_text(encoding="utf-8"))
        for step in task["spec"]["steps"]:
            script = step.get("script", "")
            if script.startswith("#!/bin/sh"):
                found.append((f"{task['metadata']['name']}/{step['name']}", script))
    return found


def shellcheck(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("shellcheck")
    assert binary, "shellcheck is not installed: run `make apt`"
    # Tekton substitutes its variables before the shell sees the script.
    file = tmp_path / "step.sh"
    file.write_text(TEKTON_VARIABLE.sub("/tekton/placeholder", script), encoding="utf-8")
    return subprocess.run(
        [binary, "--shell=sh", str(file)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(("step", "script"), shell_scripts(), ids=[s for s, _ in shell_scripts()])
def test_every_shell_step_passes_shellcheck(step: str, script: str, tmp_path: Path) -> None:
    result = shellcheck(script, tmp_path)
    assert result.returncode == 0, f"{step}:\n{result.stdout}"


def test_shellcheck_catches_an_unquoted_variable(tmp_path: Path) -> None:
    result = shellcheck("#!/bin/sh\nset -eu\nrm -rf $WORKDIR/cache\n", tmp_path)
    assert result.returncode != 0
    assert "SC2086" in result.stdout
