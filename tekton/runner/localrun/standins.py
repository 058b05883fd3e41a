"""Local stand-ins for what cannot run here, each said plainly in the log.

- A Task fetched by a resolver (the catalog's git-clone) cannot be pulled: its
  job is done by copying this repository's working tree into the workspace.
- The Kaniko image cannot be pulled: its arguments are translated to a buildah
  build (scripts/build-image.sh) that writes the same docker-archive tarball.
- A step whose image's tool is not installed here (Trivy) does not run, and the
  log says so; no result is invented.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localrun import process

KANIKO = "ghcr.io/osscontainertools/kaniko"
# Step image (without tag/digest) -> the command its scripts need on this machine.
TOOL_OF_IMAGE = {
    "docker.io/library/python": "python3",
    "docker.io/hadolint/hadolint": "hadolint",
    "docker.io/aquasec/trivy": "trivy",
}


def repository(image: str) -> str:
    """``registry/name`` of an image reference, without tag or digest."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    return name


def missing_tool(image: str, path: str) -> str | None:
    """The tool a step image needs that is not on ``path`` (None when present)."""
    tool = TOOL_OF_IMAGE.get(repository(image))
    if tool and shutil.which(tool, path=path) is None:
        return tool
    return None


@dataclass(frozen=True)
class KanikoArgs:
    dockerfile: str
    context: str
    destination: str
    tar_path: str
    digest_file: str
    name_with_digest_file: str
    build_args: list[str]


def parse_kaniko(args: list[str]) -> KanikoArgs:
    """The Kaniko flags this pipeline uses; an unknown flag is an error, not ignored."""
    flags: dict[str, str] = {}
    build_args: list[str] = []
    ignored = {"--no-push", "--reproducible"}
    pending: str | None = None
    for arg in args:
        if pending:
            build_args.append(arg)
            pending = None
        elif arg == "--build-arg":
            pending = arg
        elif arg.startswith("--build-arg="):
            build_args.append(arg.split("=", 1)[1])
        elif arg in ignored or arg.startswith("--ignore-path="):
            continue
        elif arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            flags[key] = value
        else:
            raise ValueError(f"kaniko argument not understood locally: {arg!r}")
    known = {
        "dockerfile",
        "context",
        "destination",
        "tar-path",
        "digest-file",
        "image-name-with-digest-file",
    }
    if unknown := set(flags) - known:
        raise ValueError(f"kaniko flags not understood locally: {sorted(unknown)}")
    return KanikoArgs(
        dockerfile=flags["dockerfile"],
        context=flags["context"].removeprefix("dir://"),
        destination=flags["destination"],
        tar_path=flags["tar-path"],
        digest_file=flags.get("digest-file", ""),
        name_with_digest_file=flags.get("image-name-with-digest-file", ""),
        build_args=build_args,
    )


def kaniko_with_buildah(
    args: list[str],
    *,
    build_script: Path,
    cwd: Path,
    env: dict[str, str],
    emit: Callable[[str], None],
    timeout: float | None,
) -> int:
    """Build what Kaniko would, with buildah; write its tarball, digest and name."""
    kaniko = parse_kaniko(args)
    tag = (
        kaniko.destination
        if "/" in kaniko.destination.split(":")[0]
        else f"localhost/{kaniko.destination}"
    )
    emit(
        "local stand-in: the Kaniko image cannot be pulled here;"
        f" building {tag} with buildah ({build_script.name})"
    )
    argv = [str(build_script), "-t", tag, "-f", kaniko.dockerfile, "--tar", kaniko.tar_path]
    for build_arg in kaniko.build_args:
        argv += ["--build-arg", build_arg]
    status = process.run([*argv, kaniko.context], cwd=cwd, env=env, emit=emit, timeout=timeout)
    if status != 0:
        return status
    digest = process.output_of(
        [_tool("podman"), "image", "inspect", "--format", "{{.Digest}}", tag], env
    ).strip()
    if kaniko.digest_file:
        Path(kaniko.digest_file).write_text(digest, encoding="utf-8")
    if kaniko.name_with_digest_file:
        Path(kaniko.name_with_digest_file).write_text(
            f"{kaniko.destination}@{digest}", encoding="utf-8"
        )
    emit(f"image {kaniko.destination}@{digest} written to {kaniko.tar_path}")
    return 0


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"'{name}' is not installed")
    return found


def _git(source: Path, *args: str) -> str:
    return process.output_of([_tool("git"), "-C", str(source), *args])


def fetch_working_tree(
    source: Path, output: Path, url: str, results: Path, emit: Callable[[str], None]
) -> int:
    """Do git-clone's job from the local repository: copy the working tree (tracked
    and new, not ignored files) and write the commit, url and committer-date results."""
    files = [
        f
        for f in _git(source, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split(
            "\0"
        )
        if f
    ]
    commit = _git(source, "rev-parse", "HEAD").strip()
    dirty = bool(_git(source, "status", "--porcelain").strip())
    emit("local stand-in: the catalog git-clone (git resolver) cannot be fetched here;")
    emit(
        f"copying the working tree of {source} at {commit}"
        + (" plus uncommitted changes" if dirty else "")
    )
    copied = 0
    for name in files:
        src = source / name
        if src.is_file():  # deleted-but-tracked files are skipped, like a checkout of the tree
            dst = output / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            copied += 1
    (results / "commit").write_text(commit, encoding="utf-8")
    (results / "url").write_text(url, encoding="utf-8")
    (results / "committer-date").write_text(
        _git(source, "log", "-1", "--pretty=%ct").strip(), encoding="utf-8"
    )
    emit(f"copied {copied} files into {output}")
    return 0
