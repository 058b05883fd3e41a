"""The local stand-ins: Kaniko's arguments, the working-tree fetch, tool detection."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from localrun import standins, taskrun, variables
from tekton_testkit import TEKTON

WHEEL = "powerwatch_gateway-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "c8420bbad2486ef08750f757056d0f795c6dc1d26a56414c1b2f37f1d5498044"


def kaniko_args_of_the_real_task() -> list[str]:
    """The build step's args exactly as Tekton would substitute them."""
    doc = yaml.safe_load(
        (TEKTON / "tasks/build-image/build-image.yaml").read_text(encoding="utf-8")
    )
    params = taskrun.task_params(
        doc["spec"],
        {
            "BUILD_ARGS": ["--build-arg=BASE_IMAGE=local/base:1"],
            "WHEEL": WHEEL,
            "WHEEL_SHA256": WHEEL_SHA256,
        },
    )
    values: dict[str, variables.Value] = {f"params.{k}": v for k, v in params.items()}
    values.update(
        {
            "workspaces.source.path": "/ws/source",
            "workspaces.dist.path": "/ws/dist",
            "workspaces.image.path": "/ws/image",
            "results.IMAGE_DIGEST.path": "/r/IMAGE_DIGEST",
            "results.WHEEL_SHA256.path": "/r/WHEEL_SHA256",
        }
    )
    (build,) = [s for s in doc["spec"]["steps"] if s["name"] == "build"]
    return variables.in_list(build["args"], values)


def test_the_build_image_task_args_translate_to_a_buildah_build() -> None:
    parsed = standins.parse_kaniko(kaniko_args_of_the_real_task())
    assert parsed.dockerfile == "/ws/source/apps/gateway/Dockerfile"
    # The context is the one the assemble-context step made: the app's plus the wheel.
    assert parsed.context == "/ws/image/context"
    assert parsed.tar_path == "/ws/image/image.tar"
    assert parsed.digest_file == "/r/IMAGE_DIGEST"
    assert parsed.build_args == [
        f"WHEEL={WHEEL}",
        f"WHEEL_SHA256={WHEEL_SHA256}",
        "BASE_IMAGE=local/base:1",
    ]


def test_an_unknown_kaniko_flag_is_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match="cache-repo"):
        standins.parse_kaniko([*kaniko_args_of_the_real_task(), "--cache-repo=r"])


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("docker.io/aquasec/trivy:0.69.3@sha256:abc", "docker.io/aquasec/trivy"),
        ("localhost:5000/x/y:1", "localhost:5000/x/y"),
        ("ghcr.io/osscontainertools/kaniko@sha256:abc", "ghcr.io/osscontainertools/kaniko"),
    ],
)
def test_repository_drops_tag_and_digest(image: str, repository: str) -> None:
    assert standins.repository(image) == repository


def test_missing_tool_looks_on_the_given_path(tmp_path: Path) -> None:
    (tmp_path / "trivy").write_text("#!/bin/sh\n", encoding="utf-8")
    (tmp_path / "trivy").chmod(0o755)
    image = "docker.io/aquasec/trivy:0.69.3@sha256:abc"
    assert standins.missing_tool(image, str(tmp_path)) is None
    assert standins.missing_tool(image, str(tmp_path / "empty")) == "trivy"
    assert standins.missing_tool("example.org/unknown:1", "") is None


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_fetch_copies_the_working_tree_without_ignored_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text("secret.txt\n", encoding="utf-8")
    (repo / "a.txt").write_text("committed\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "commit", "-qm", "one")
    (repo / "new.txt").write_text("untracked\n", encoding="utf-8")
    (repo / "secret.txt").write_text("ignored\n", encoding="utf-8")
    out, results = tmp_path / "out", tmp_path / "results"
    out.mkdir()
    results.mkdir()
    lines: list[str] = []
    assert standins.fetch_working_tree(repo, out, "file://x", results, lines.append) == 0
    assert sorted(p.name for p in out.iterdir()) == [".gitignore", "a.txt", "new.txt"]
    assert len((results / "commit").read_text(encoding="utf-8")) == 40
    assert (results / "url").read_text(encoding="utf-8") == "file://x"
    assert any("uncommitted changes" in line for line in lines)
