"""The gateway image installs a hash-locked subset of requirements/lock.txt, kept in sync."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.containers.podman_tools import ROOT

APP = ROOT / "apps/gateway"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==(\S+)", flags=re.MULTILINE)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return {_normal(name): version for name, version in PIN.findall(text)}


def requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._\-]*", spec)
    assert match, spec
    return _normal(match.group(0))


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-build.lock"])
def test_app_lock_is_a_hashed_subset_of_the_repo_lock(lock: str) -> None:
    repo = pins(ROOT / "requirements/lock.txt")
    app = pins(APP / lock)
    assert app, f"{lock} pins nothing"
    drift = {
        name: (version, repo.get(name))
        for name, version in app.items()
        if repo.get(name) != version
    }
    assert not drift, f"{lock} differs from requirements/lock.txt (run make gateway-lock): {drift}"
    blocks = re.split(
        r"^(?=[A-Za-z0-9])", (APP / lock).read_text(encoding="utf-8"), flags=re.MULTILINE
    )
    for block in filter(str.strip, blocks):
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_app_locks_cover_the_package_and_its_build_backend() -> None:
    project = tomllib.loads((APP / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = pins(APP / "requirements.lock")
    for spec in project["project"]["dependencies"]:
        assert requirement_name(spec) in runtime, f"{spec} missing: run make gateway-lock"
    build = pins(APP / "requirements-build.lock")
    for spec in project["build-system"]["requires"]:
        assert requirement_name(spec) in build, f"{spec} missing: run make gateway-lock"
