"""Build, run and inspect container images here: buildah + podman, no engine, no registry.

Every call goes through the repo's scripts, so tests, the Makefile and the Tekton local
runner build the same way:

- ``scripts/build-wheel.sh`` builds an app's wheel (locked backend) into its dist/;
- ``scripts/build-image.sh`` builds (buildah, chroot isolation, cached layers) with the
  local base image from ``scripts/base-image.sh`` as ``--build-arg BASE_IMAGE``, and
  an app image from its wheel (``--wheel``);
- ``scripts/podman.sh`` runs (runc, cgroupfs, file events, lowered ulimits).

Usage from a test (see ``test_gateway_image.py``)::

    problem = builder_problem()          # None, or why no image can be built here
    tag = build_image(context, "localhost/powerwatch/x:test").tag
    with run_container(tag, env={"PORT": str(port)}) as box:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", box)
        box.exec("id", "-u")
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from powerwatch_local.processes import free_port as free_port  # the one free_port

ROOT = Path(__file__).resolve().parents[2]
# Loopback probes must never go through a proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SCRIPTS = ROOT / "scripts"
BUILD_IMAGE = SCRIPTS / "build-image.sh"
BUILD_WHEEL = SCRIPTS / "build-wheel.sh"
WHEEL_IN_IMAGE = SCRIPTS / "wheel-in-image.py"
BASE_IMAGE = SCRIPTS / "base-image.sh"
PODMAN = SCRIPTS / "podman.sh"


class ContainerError(RuntimeError):
    """A build, run or probe failed; the message carries the tool's own output."""


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def builder_problem() -> str | None:
    """Why images cannot be built and run here, or None when they can.

    Checks only that the tools exist and that buildah's and podman's storage open:
    anything that fails later is a real failure, not a reason to skip.
    """
    for tool in ("buildah", "podman", "runc", "mmdebstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make apt installs it)"
    for probe in (["buildah", "info"], [str(PODMAN), "info"]):
        try:
            done = subprocess.run(probe, capture_output=True, text=True, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(probe)}` did not answer within 120 s"
        if done.returncode != 0:
            return f"`{' '.join(probe)}` cannot start: {_tail(done.stderr, 5)}"
    return None


def podman(
    *args: str, timeout: float = 120, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/podman.sh ARGS``; raise ContainerError with its stderr on failure."""
    done = subprocess.run(
        [str(PODMAN), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise ContainerError(f"podman {' '.join(args)} -> {done.returncode}\n{_tail(done.stderr)}")
    return done


def base_image() -> str:
    """The local base image's name, creating it first if missing (slow only once)."""
    done = subprocess.run(
        [str(BASE_IMAGE)], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise ContainerError(f"base-image.sh -> {done.returncode}\n{_tail(done.stderr)}")
    return done.stdout.strip()


@dataclass(frozen=True)
class Build:
    tag: str
    seconds: float
    log: str


def build_wheel(app: Path, timeout: float = 600) -> Path:
    """APP's wheel, built by scripts/build-wheel.sh into APP/dist/."""
    done = subprocess.run(
        [str(BUILD_WHEEL), str(app)], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise ContainerError(f"build-wheel.sh {app} -> {done.returncode}\n{_tail(done.stderr)}")
    return Path(done.stdout.strip())


def build_image(
    context: Path,
    tag: str,
    *,
    dockerfile: Path | None = None,
    build_args: Mapping[str, str] | None = None,
    wheel: Path | None = None,
    tar: Path | None = None,
    timeout: float = 1800,
) -> Build:
    """Build CONTEXT into TAG via scripts/build-image.sh (DOCKERFILE.dockerignore applies,
    else the context's .dockerignore), from WHEEL when given (``--wheel``).

    BASE_IMAGE defaults to the local base; pass it in build_args to use another.
    """
    cmd = [str(BUILD_IMAGE), "-t", tag]
    if dockerfile is not None:
        cmd += ["-f", str(dockerfile)]
    if wheel is not None:
        cmd += ["--wheel", str(wheel)]
    for key, value in (build_args or {}).items():
        cmd += ["--build-arg", f"{key}={value}"]
    if tar is not None:
        cmd += ["--tar", str(tar)]
    cmd.append(str(context))
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise ContainerError(f"build of {tag} -> {done.returncode}\n{_tail(done.stderr, 60)}")
    return Build(tag=done.stdout.strip(), seconds=seconds, log=done.stderr)


def image_inspect(tag: str) -> dict[str, Any]:
    """`podman image inspect` of TAG (Healthcheck, User, Size, History, ...)."""
    inspected: dict[str, Any] = json.loads(podman("image", "inspect", tag).stdout)[0]
    return inspected


def image_config(tag: str) -> dict[str, Any]:
    """The image's run config: User, Env, Entrypoint, Cmd, WorkingDir, ExposedPorts."""
    config: dict[str, Any] = image_inspect(tag)["Config"]
    return config


def run_once(
    image: str,
    *command: str,
    entrypoint: str | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> str:
    """Run COMMAND in a fresh container of IMAGE (no network), remove it, return its stdout."""
    args = ["run", "--rm", "--network=none"]
    if entrypoint is not None:
        args.append(f"--entrypoint={entrypoint}")
    if stdin is not None:
        args.append("--interactive")
    return podman(*args, image, *command, stdin=stdin, timeout=timeout).stdout


def wheel_in_image(image: str, wheel: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """The pipeline's verify-wheel check (scripts/wheel-in-image.py) on IMAGE saved as a
    docker-archive in WORKDIR: pip recorded WHEEL's sha256 at install and every file of the
    wheel is in the image unchanged. Returns the finished check; the caller asserts on it."""
    tar = workdir / "image.tar"
    podman("save", "--quiet", "--format", "docker-archive", "-o", str(tar), image, timeout=300)
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return subprocess.run(
        [sys.executable, str(WHEEL_IN_IMAGE), str(tar), str(wheel), sha],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def remove_image(tag: str) -> None:
    podman("rmi", "--force", tag, check=False)


@dataclass(frozen=True)
class Container:
    name: str

    def exec(self, *cmd: str, timeout: float = 60) -> str:
        """Run CMD inside the running container as its configured user; return stdout."""
        return podman("exec", self.name, *cmd, timeout=timeout).stdout

    def state(self) -> dict[str, Any]:
        done = podman("inspect", "--type", "container", self.name)
        state: dict[str, Any] = json.loads(done.stdout)[0]["State"]
        return state

    def is_running(self) -> bool:
        return bool(self.state().get("Running"))

    def logs(self) -> str:
        done = podman("logs", self.name, check=False)
        return done.stdout + done.stderr

    def healthcheck(self) -> bool:
        """Run the image's own HEALTHCHECK once; True when it passes."""
        return podman("healthcheck", "run", self.name, check=False).returncode == 0

    def stop(self, grace_s: int = 10) -> int:
        """Send SIGTERM (SIGKILL after GRACE_S seconds); return the container's exit code."""
        podman("stop", "--time", str(grace_s), self.name, timeout=grace_s + 60)
        return int(self.state()["ExitCode"])

    def main_process_uid(self) -> int:
        """The real uid of the container's PID 1, read from /proc inside it."""
        status = self.exec("cat", "/proc/1/status")
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        return int(uid_line.split()[1])


@contextmanager
def run_container(
    image: str,
    *,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    network: str = "host",
) -> Iterator[Container]:
    """Start IMAGE detached; always remove it afterwards.

    Host networking needs no bridge/iptables (neither exists here); tests then pass the
    service a 127.0.0.1 address and a free port through ``env``.
    """
    name = f"powerwatch-test-{uuid.uuid4().hex[:12]}"
    args = ["run", "--detach", "--name", name, f"--network={network}"]
    # No systemd here: podman cannot arm the periodic health timer; tests run it by hand.
    args += ["--health-interval=disable"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    args += [*extra_args, image, *command]
    podman(*args, timeout=120)
    try:
        yield Container(name)
    finally:
        podman("rm", "--force", "--time", "5", name, check=False, timeout=60)


def wait_http_ok(url: str, container: Container, timeout: float = 60) -> int:
    """Poll URL until it answers 2xx; fail early, with the logs, if the container exits."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        try:
            with _DIRECT.open(url, timeout=2) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except OSError as error:
            last = str(error)
        if not container.is_running():
            raise ContainerError(f"container exited before {url} answered\n{container.logs()}")
        time.sleep(0.3)
    raise ContainerError(f"{url} not healthy after {timeout} s ({last})\n{container.logs()}")
