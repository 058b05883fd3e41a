"""Run one command, stream its output into the log, stop it at a deadline."""

from __future__ import annotations

import os
import signal

# Running the pipeline's own steps is the point of this module.
import subprocess  # nosec B404
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

TIMED_OUT = -9
NOT_STARTED = 127
# Held while a step script is open for writing and around every fork/exec: a child
# forked while a script is open keeps it open until its exec (ETXTBSY for the script).
SPAWN_LOCK = threading.Lock()


def write_script(path: Path, text: str) -> None:
    with SPAWN_LOCK:
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)


def output_of(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    """Standard output of a short command; CalledProcessError when it fails."""
    with SPAWN_LOCK:
        # argv: this repository's own tools (git, podman), run without a shell.
        child = subprocess.Popen(  # noqa: S603  # nosec B603
            list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    out, err = child.communicate()
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, list(argv), out, err)
    return out


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    emit: Callable[[str], None],
    timeout: float | None,
) -> int:
    """Exit status of ``argv`` (``TIMED_OUT`` when the deadline killed it)."""
    try:
        with SPAWN_LOCK:  # Popen returns once the child has exec'd
            process = subprocess.Popen(  # noqa: S603  # nosec B603
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so a timeout can stop the whole process group
            )
    except OSError as error:
        emit(f"cannot start {argv[0]}: {error}")
        return NOT_STARTED
    stdout = process.stdout
    if stdout is None:  # pragma: no cover - stdout=PIPE always gives a stream
        raise RuntimeError("no output stream")

    def pump() -> None:
        for raw in stdout:
            emit(raw.decode("utf-8", errors="replace"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        status = TIMED_OUT
    reader.join(timeout=5)
    stdout.close()
    return status
