"""localrun.process: a step script that is briefly still open for writing elsewhere
(another task's thread forked while it was being written) starts once it is closed."""

from __future__ import annotations

import threading
from pathlib import Path

from localrun import process


def test_a_script_still_open_for_writing_starts_once_it_is_closed(tmp_path: Path) -> None:
    script = tmp_path / "step"
    writer = script.open("w", encoding="utf-8")
    writer.write("#!/bin/sh\necho started\n")
    writer.flush()
    script.chmod(0o755)
    # While the write handle is open, exec fails with ETXTBSY; close it a little later.
    closer = threading.Timer(0.2, writer.close)
    closer.start()
    lines: list[str] = []
    try:
        status = process.run(
            [str(script)],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            emit=lines.append,
            timeout=30,
        )
    finally:
        closer.join()
        writer.close()
    assert status == 0, lines
    assert "started" in "".join(lines)


def test_a_missing_interpreter_is_still_reported_at_once(tmp_path: Path) -> None:
    script = tmp_path / "step"
    script.write_text("#!/nonexistent/interpreter\n", encoding="utf-8")
    script.chmod(0o755)
    lines: list[str] = []
    status = process.run([str(script)], cwd=tmp_path, env={}, emit=lines.append, timeout=30)
    assert status == process.NOT_STARTED
    assert "cannot start" in "".join(lines)
