"""Every Dockerfile in the repo is clean under `hadolint --failure-threshold warning`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.containers.podman_tools import ROOT

HADOLINT = ROOT / ".venv/bin/hadolint"
SKIP_DIRS = {".git", ".venv", "node_modules", ".local"}


def dockerfiles() -> list[Path]:
    found = [
        path
        for path in ROOT.rglob("*Dockerfile*")
        if path.is_file()
        and not path.name.endswith(".dockerignore")
        and not SKIP_DIRS.intersection(path.relative_to(ROOT).parts)
    ]
    return sorted(found)


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "warning", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_gateway_dockerfile_is_among_those_checked() -> None:
    assert ROOT / "apps/gateway/Dockerfile" in dockerfiles()


@pytest.mark.parametrize("path", dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_passes_hadolint(path: Path) -> None:
    result = hadolint(path)
    assert result.returncode == 0, result.stdout + result.stderr


GATEWAY = ROOT / "apps/gateway/Dockerfile"
# Each breakage must make the same check fail, with hadolint's rule id in its output.
BREAKAGES = {
    "unpinned-latest-base": (r"^FROM \$\{BASE_IMAGE\} AS runtime$", "FROM python:latest", "DL3007"),
    "add-instead-of-copy": (r"^COPY requirements\.lock \./$", "ADD requirements.lock ./", "DL3020"),
    "relative-workdir": (r"^WORKDIR /src$", "WORKDIR src", "DL3000"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_check_fails_on_a_broken_copy(name: str, tmp_path: Path) -> None:
    pattern, replacement, rule = BREAKAGES[name]
    original = GATEWAY.read_text(encoding="utf-8")
    broken, count = re.subn(pattern, replacement, original, count=1, flags=re.MULTILINE)
    assert count == 1, f"{name}: pattern no longer matches apps/gateway/Dockerfile"
    copy = tmp_path / "Dockerfile"
    copy.write_text(broken, encoding="utf-8")
    result = hadolint(copy)
    assert result.returncode != 0
    assert rule in result.stdout
