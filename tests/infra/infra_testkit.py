"""Runs infra/checks/bicepcheck and checkov from .venv-infra (`make infra-venv`).

Those tools live in their own venv (requirements/infra-tools.lock): checkov's pins clash
with requirements/lock.txt. Nothing here talks to Azure: no Bicep CLI, no what-if.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
INFRA_BIN = ROOT / ".venv-infra" / "bin"

CHECKOV = [str(INFRA_BIN / "checkov"), "--framework", "bicep", "--skip-download"]
Run = Callable[..., subprocess.CompletedProcess[str]]


def _require_tools() -> None:
    if not (INFRA_BIN / "checkov").is_file():
        pytest.fail("the infra tools are missing: run `make infra-venv` (make test does)")


@pytest.fixture(scope="session")
def bicepcheck() -> Run:
    _require_tools()

    def run(command: str, *paths: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(INFRA / "checks")}
        targets = [str(p) for p in paths or (INFRA,)]
        return subprocess.run(
            [str(INFRA_BIN / "python"), "-m", "bicepcheck", command, *targets],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=240,
        )

    return run


@pytest.fixture(scope="session")
def checkov() -> Callable[[Path], dict[str, Any]]:
    _require_tools()

    def run(path: Path) -> dict[str, Any]:
        out = subprocess.run(
            [*CHECKOV, "-o", "json", "-d", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=240,
        )
        report: dict[str, Any] = json.loads(out.stdout)
        return report

    return run


def dump(bicepcheck: Run, root: Path = INFRA) -> dict[str, Any]:
    """pycep's tree of every file under root (infra/ or a copy), keyed by path relative to it."""
    done = bicepcheck("dump", root)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="session")
def trees(bicepcheck: Run) -> dict[str, Any]:
    """pycep's tree of every infra/ file, keyed by path relative to infra/."""
    return dump(bicepcheck)


def copy_infra(dest: Path, ignore: tuple[str, ...] = ("build", "__pycache__")) -> Path:
    """A copy of infra/ at dest, leaving out what ignore names (shutil.ignore_patterns)."""
    shutil.copytree(INFRA, dest, ignore=shutil.ignore_patterns(*ignore))
    return dest


@pytest.fixture
def infra_copy(tmp_path: Path) -> Path:
    """A copy of infra/ (without the build output) to break."""
    return copy_infra(tmp_path / "infra")


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- reading pycep's trees -----------------------------------------------------------


def variables(trees: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {k: v["value"] for k, v in trees["main.bicep"]["variables"].items()}
    return result


def body(config: dict[str, Any]) -> dict[str, Any]:
    """A resource's or module's body, inside its `if (...)` or `for` if it has one."""
    while "condition" in config or "loop_type" in config:
        config = config["config"]
    return config


def resource(trees: dict[str, Any], file: str, symbol: str) -> dict[str, Any]:
    return body(trees[file]["resources"][symbol]["config"])


def app_container(trees: dict[str, Any], symbol: str) -> dict[str, Any]:
    """The one container of a container app of modules/containerapps.bicep."""
    app = resource(trees, "modules/containerapps.bicep", symbol)
    (container,) = app["properties"]["template"]["containers"]
    found: dict[str, Any] = container
    return found


def module_params(trees: dict[str, Any], symbol: str) -> dict[str, Any]:
    found: dict[str, Any] = body(trees["main.bicep"]["modules"][symbol]["config"])["params"]
    return found


def deployed_types(trees: dict[str, Any]) -> set[str]:
    return {
        r["type"].split("@")[0]
        for tree in trees.values()
        for r in tree.get("resources", {}).values()
        if not r.get("existing")
    }
