"""Run one command, stream its output into the log, stop it at a deadline."""

from __future__ import annotations

import errno
import os
import signal

# Running the pipeline's own steps is the point of this module.
import subprocess  # nosec B404
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

TIMED_OUT = -9
NOT_STARTED = 127
# A step script just written may still be open in a child that another task's thread
# forked and has not exec'd yet (ETXTBSY): that passes within milliseconds.
BUSY_RETRIES = 50
BUSY_WAIT = 0.02


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    emit: Callable[[str], None],
    timeout: float | None,
) -> int:
    """Exit status of ``argv`` (``TIMED_OUT`` when the deadline killed it)."""
    for attempt in range(BUSY_RETRIES + 1):
        try:
            # argv comes from the pipeline's YAML, run without a shell.
            process = subprocess.Popen(  # noqa: S603  # nosec B603
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so a timeout can stop the whole process group
            )
            break
        except OSError as error:  # e.g. a shebang interpreter that is not installed
            if error.errno == errno.ETXTBSY and attempt < BUSY_RETRIES:
                time.sleep(BUSY_WAIT)
                continue
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
