"""Every hash-locked install set is requirements/lock.txt or a subset of it.

The images (apps/gateway, api) and the CI tools (Tekton tasks, GitHub workflow) install
from their own locks with `--no-deps --require-hashes`: pip resolves nothing, so each lock
must be complete, hashed and pinned to exactly the versions the repository's tests ran.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPO_LOCK = ROOT / "requirements/lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==(\S+)", flags=re.MULTILINE)

# One lock per CI task (Tekton task and workflow job), each made by `make lock` from its
# .in: lock -> input.
CI_LOCKS = {
    "requirements/ci-lint.lock": "requirements/ci-lint.in",
    "requirements/ci-test.lock": "requirements/ci-test.in",
    "requirements/ci-build.lock": "requirements/ci-build.in",
}
# lock file -> the make target that rewrites it
SUBSET_LOCKS = {
    "apps/gateway/requirements.lock": "make gateway-lock",
    "apps/gateway/requirements-build.lock": "make gateway-lock",
    "api/requirements.lock": "make api-lock",
    "api/requirements-build.lock": "make api-lock",
    "api/requirements-test.lock": "make api-lock",
    **dict.fromkeys(CI_LOCKS, "make lock"),
}
# Locks resolved on their own (their tools' pins clash with lock.txt), still hash-pinned.
INDEPENDENT_LOCKS = {"requirements/infra-tools.lock": "requirements/infra-tools.in"}
# app folder -> the make target that rewrites its requirements.lock (what its image
# installs) and its requirements-build.lock (the wheel's build backend: the api image
# installs it, the gateway's wheel is built by scripts/build-wheel.sh)
APPS = {"apps/gateway": "make gateway-lock", "api": "make api-lock"}
# app folder -> the make target that rewrites its requirements-test.lock (test tools the
# pipeline's unit-test installs beyond requirements/ci-test.lock), and apps with a
# local-packages.txt
TEST_LOCKS = {"api": "make api-lock"}
LOCAL_PACKAGES = ["api"]


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    return {normal(n): v for n, v in PIN.findall(path.read_text(encoding="utf-8"))}


def requirement_name(spec: str) -> str:
    return normal(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0])


def assert_lock_covers_inputs(lock: str, source: str, remake: str) -> None:
    """Each spec of the .in file SOURCE is pinned in LOCK."""
    locked = pins(ROOT / lock)
    for spec in input_specs(source):
        assert requirement_name(spec) in locked, f"{spec} missing: run `{remake}`"


def input_specs(source: str) -> list[str]:
    """The requirement specs of the .in file SOURCE (comments and blank lines dropped)."""
    lines = (ROOT / source).read_text(encoding="utf-8").splitlines()
    return [spec for spec in (line.split("#")[0].strip() for line in lines) if spec]


def unhashed_blocks(path: Path) -> list[str]:
    blocks = re.split(r"^(?=[A-Za-z0-9])", path.read_text(encoding="utf-8"), flags=re.M)
    return [b.splitlines()[0] for b in blocks if b.strip() and "--hash=sha256:" not in b]


@pytest.mark.parametrize("lock", ["requirements/lock.txt", *SUBSET_LOCKS, *INDEPENDENT_LOCKS])
def test_every_pin_carries_a_hash(lock: str) -> None:
    assert len(pins(ROOT / lock)) > 1
    assert unhashed_blocks(ROOT / lock) == []


@pytest.mark.parametrize(("lock", "remake"), SUBSET_LOCKS.items())
def test_subset_lock_pins_the_repo_locks_versions(lock: str, remake: str) -> None:
    repo = pins(REPO_LOCK)
    drift = {n: (v, repo.get(n)) for n, v in pins(ROOT / lock).items() if repo.get(n) != v}
    assert drift == {}, f"{lock} differs from requirements/lock.txt: run `{remake}`"


@pytest.mark.parametrize(("app", "remake"), APPS.items())
def test_app_locks_cover_the_package_and_its_build_backend(app: str, remake: str) -> None:
    project = tomllib.loads((ROOT / app / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = pins(ROOT / app / "requirements.lock")
    for spec in project["project"]["dependencies"]:
        assert requirement_name(spec) in runtime, f"{spec} missing: run `{remake}`"
    build = pins(ROOT / app / "requirements-build.lock")
    for spec in project["build-system"]["requires"]:
        assert requirement_name(spec) in build, f"{spec} missing: run `{remake}`"


def input_names(source: str) -> set[str]:
    return {requirement_name(spec) for spec in input_specs(source)}


@pytest.mark.parametrize(("lock", "source"), CI_LOCKS.items())
def test_ci_lock_covers_its_inputs(lock: str, source: str) -> None:
    assert_lock_covers_inputs(lock, source, "make lock")


def test_every_ci_input_has_its_lock() -> None:
    """`make lock` compiles requirements/ci-*.in; each is one CI task's lock here."""
    inputs = {p.relative_to(ROOT).as_posix() for p in (ROOT / "requirements").glob("ci-*.in")}
    locks = {p.relative_to(ROOT).as_posix() for p in (ROOT / "requirements").glob("ci-*.lock")}
    assert inputs == set(CI_LOCKS.values())
    assert locks == set(CI_LOCKS)


def foreign_tools(lock: str, root: Path = ROOT) -> set[str]:
    """The other CI tasks' top-level tools that LOCK (read under ROOT) pins."""
    others = set().union(*(input_names(s) for other, s in CI_LOCKS.items() if other != lock))
    return others & set(pins(root / lock))


@pytest.mark.parametrize("lock", CI_LOCKS)
def test_a_ci_lock_pins_no_other_tasks_tools(lock: str) -> None:
    """A task's venv holds only its own tools: a unit test that imports build or bandit
    (absent from the app's image) fails in CI instead of passing."""
    assert foreign_tools(lock) == set()


def test_the_test_lock_has_no_linter_or_build_tool_and_the_lint_lock_no_pytest() -> None:
    test_lock = pins(ROOT / "requirements/ci-test.lock")
    assert {"pytest", "pytest-cov", "hypothesis"} <= set(test_lock)
    assert {"ruff", "bandit", "build", "twine", "check-wheel-contents"} & set(test_lock) == set()
    lint_lock = pins(ROOT / "requirements/ci-lint.lock")
    assert {"ruff", "bandit"} <= set(lint_lock)
    assert {"pytest", "pytest-cov", "hypothesis", "build"} & set(lint_lock) == set()
    build_lock = pins(ROOT / "requirements/ci-build.lock")
    assert {"build", "twine", "check-wheel-contents"} <= set(build_lock)
    assert {"pytest", "ruff", "bandit"} & set(build_lock) == set()


def test_a_lock_with_another_tasks_tool_is_noticed(tmp_path: Path) -> None:
    """The disjointness check reads the lock: a test lock that also pins ruff fails it."""
    lock = tmp_path / "requirements/ci-test.lock"
    lock.parent.mkdir()
    text = (ROOT / "requirements/ci-test.lock").read_text(encoding="utf-8")
    lock.write_text(
        text + "ruff==0.17.6 \\\n    --hash=sha256:" + "0" * 64 + "\n", encoding="utf-8"
    )
    assert foreign_tools("requirements/ci-test.lock", tmp_path) == {"ruff"}


@pytest.mark.parametrize(("app", "remake"), TEST_LOCKS.items())
def test_test_lock_covers_its_inputs(app: str, remake: str) -> None:
    """The pipeline's unit-test installs APP/requirements-test.lock (the app's own test tools)."""
    assert_lock_covers_inputs(
        f"{app}/requirements-test.lock", f"{app}/requirements-test.in", remake
    )


def test_only_the_listed_apps_have_a_test_lock() -> None:
    inputs = [*ROOT.glob("*/requirements-test.in"), *ROOT.glob("apps/*/requirements-test.in")]
    assert {p.parent.relative_to(ROOT).as_posix() for p in inputs} == set(TEST_LOCKS)


@pytest.mark.parametrize("app", LOCAL_PACKAGES)
def test_local_packages_are_packages_of_this_repository(app: str) -> None:
    """The pipeline's unit-test installs each folder of APP/local-packages.txt editable."""
    lines = (ROOT / app / "local-packages.txt").read_text(encoding="utf-8").splitlines()
    folders = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    assert folders
    for folder in folders:
        assert ".." not in Path(folder).parts, folder
        assert (ROOT / folder / "pyproject.toml").is_file(), folder


@pytest.mark.parametrize(("lock", "source"), INDEPENDENT_LOCKS.items())
def test_independent_lock_covers_its_inputs(lock: str, source: str) -> None:
    assert_lock_covers_inputs(lock, source, "make lock")
