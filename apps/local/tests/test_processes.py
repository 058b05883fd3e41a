"""The supervisor of `make up`: children start, a status line repeats, Ctrl-C stops them
in reverse order, and a child that dies on its own ends the run with 1."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

from powerwatch_local.processes import Child, free_port, supervise

#: A child that records its SIGTERM in its log, then exits 0.
_RECORDS_TERM = (
    "import signal, sys, time\n"
    "def bye(*_):\n"
    "    print('term', time.monotonic_ns(), flush=True); sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, bye)\n"
    "print('up', flush=True)\n"
    "time.sleep(60)\n"
)


def test_children_stop_in_reverse_order_when_stopped(tmp_path: Path) -> None:
    children = [Child(name, [sys.executable, "-c", _RECORDS_TERM]) for name in ("first", "last")]
    statuses: list[str] = []

    async def scenario() -> int:
        stop = asyncio.Event()

        def status() -> str:
            statuses.append("tick")
            if len(statuses) >= 2:
                stop.set()
            return "tick"

        return await supervise(children, tmp_path, ["banner"], status, 0.2, stop)

    assert asyncio.run(scenario()) == 0
    stopped_at = {}
    for name in ("first", "last"):
        lines = (tmp_path / f"{name}.log").read_text().split()
        assert lines[:2] == ["up", "term"], lines
        stopped_at[name] = int(lines[2])
    assert stopped_at["last"] < stopped_at["first"]  # the last started stops first
    assert [c.process.returncode for c in children if c.process] == [0, 0]


def test_a_child_that_exits_on_its_own_ends_the_run(tmp_path: Path) -> None:
    dies = Child("dies", [sys.executable, "-c", "raise SystemExit(3)"])
    stays = Child("stays", [sys.executable, "-c", _RECORDS_TERM])

    async def scenario() -> int:
        return await supervise([stays, dies], tmp_path, [], lambda: "", 0.2, asyncio.Event())

    assert asyncio.run(scenario()) == 1
    assert dies.process is not None
    assert dies.process.returncode == 3
    assert stays.process is not None
    assert stays.process.returncode == 0


def test_free_port_prefers_the_asked_port_and_falls_back_when_taken() -> None:
    port = free_port(0)
    assert free_port(port) == port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        assert free_port(port) != port
