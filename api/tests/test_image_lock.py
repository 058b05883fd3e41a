"""api/requirements*.lock (what the image installs) stay a hashed subset of the repo lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==(\S+)", flags=re.MULTILINE)


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    return {normal(n): v for n, v in PIN.findall(path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-build.lock"])
def test_image_lock_matches_the_repo_lock(lock: str) -> None:
    repo = pins(REPO / "requirements/lock.txt")
    image = pins(REPO / "api" / lock)
    assert image
    drift = {n: (v, repo.get(n)) for n, v in image.items() if repo.get(n) != v}
    assert drift == {}, f"run `make api-lock`: {drift}"
    assert "--hash=sha256:" in (REPO / "api" / lock).read_text(encoding="utf-8")


def test_every_runtime_dependency_is_in_the_image_lock() -> None:
    project = tomllib.loads((REPO / "api/pyproject.toml").read_text(encoding="utf-8"))
    image = pins(REPO / "api/requirements.lock")
    for spec in project["project"]["dependencies"]:
        name = normal(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0])
        assert name in image, f"{name} missing: run `make api-lock`"
