"""localrun.process: a step script that is briefly still open for writing elsewhere
(another task's thread forked while it was being written) starts once it is closed."""

from __future__ import annotations

import threading
from pathlib import Path

from localrun import process


def test_scripts_written_and_started_on_many_threads_at_once_all_start(tmp_path: Path) -> None:
    """Tasks run on parallel threads, each writing its step scripts and starting them.

    A child forked on one thread while another thread still has its script open for
    writing inherits that descriptor until it execs, and exec of the script then fails
    with ETXTBSY. Without process.SPAWN_LOCK around the writes and the forks a few of
    these 160 starts fail; with it none does.
    """
    failures: list[str] = []

    def task(n: int) -> None:
        for step in range(40):
            script = tmp_path / f"task{n}-step{step}"
            process.write_script(script, "#!/bin/sh\n" + "true\n" * 50)
            lines: list[str] = []
            status = process.run([str(script)], cwd=tmp_path, env={}, emit=lines.append, timeout=30)
            if status != 0:
                failures.append(f"{script.name}: {status} {''.join(lines)}")

    threads = [threading.Thread(target=task, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_missing_interpreter_is_still_reported_at_once(tmp_path: Path) -> None:
    script = tmp_path / "step"
    script.write_text("#!/nonexistent/interpreter\n", encoding="utf-8")
    script.chmod(0o755)
    lines: list[str] = []
    status = process.run([str(script)], cwd=tmp_path, env={}, emit=lines.append, timeout=30)
    assert status == process.NOT_STARTED
    assert "cannot start" in "".join(lines)
