"""The image scripts refuse bad input with a clear message and exit code 2, building nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.containers.podman_tools import BASE_IMAGE, BUILD_IMAGE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "-t TAG is required"),
        (["-t", "x"], "CONTEXT is required"),
        (["-t", "x", "/nonexistent-context"], "is not a directory"),
        (["-t", "x", "--build-arg", "NOEQUALS", "."], "is not K=V"),
        (["-t", "x", "--bogus", "."], "unknown option '--bogus'"),
        (["-t", "x", "a", "b"], "one CONTEXT only"),
    ],
)
def test_build_image_rejects_bad_usage(args: list[str], message: str) -> None:
    result = run(str(BUILD_IMAGE), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_build_image_rejects_a_context_without_dockerfile(tmp_path: Path) -> None:
    result = run(str(BUILD_IMAGE), "-t", "x", str(tmp_path))
    assert result.returncode == 2
    assert "Dockerfile" in result.stderr


def test_base_image_rejects_unknown_option() -> None:
    result = run(str(BASE_IMAGE), "--bogus")
    assert result.returncode == 2
    assert "unknown option '--bogus'" in result.stderr


def test_base_image_name_is_fixed_and_overridable() -> None:
    assert run(str(BASE_IMAGE), "--name").stdout == "localhost/powerwatch/python-base:bookworm\n"
    other = subprocess.run(
        ["bash", str(BASE_IMAGE), "--name"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "POWERWATCH_BASE_IMAGE": "localhost/x/base:1"},
    )
    assert other.stdout == "localhost/x/base:1\n"
