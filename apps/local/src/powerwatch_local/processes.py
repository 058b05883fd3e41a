"""The child processes of `make up`: start, supervise, stop in reverse order.

Generic: nothing here knows what the children are (`stack` says that). A child that
exits on its own ends the run; Ctrl-C / SIGTERM stop every child, the last started first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    """One process of the stack."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None

    async def start(self, log_dir: Path) -> None:
        log_file = (log_dir / f"{self.name}.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, env={**os.environ, **self.env}, stdout=log_file, stderr=log_file
        )
        log_file.close()  # the child holds its own descriptor

    async def stop(self, grace_s: float = 15.0) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()  # SIGTERM: the gateway flushes its batch first
        try:
            return await asyncio.wait_for(self.process.wait(), grace_s)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()


def free_port(preferred: int = 0, host: str = "127.0.0.1") -> int:
    """`preferred` if it is free, else any free port (the repository's one free_port)."""
    for candidate in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port")


async def supervise(
    children: Sequence[Child],
    log_dir: Path,
    banner: Sequence[str],
    status: Callable[[], str],
    every_s: float,
    stop: asyncio.Event,
) -> int:
    """Start the children, print `banner`, then `status()` every `every_s` until `stop`.

    A child that exits on its own ends the run with 1. The children stop in reverse
    order, each before what it reads from: the gateway flushes, then the simulator stops.
    """
    await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)
    for child in children:
        await child.start(log_dir)
    for line in banner:
        print(line)
    print("Ctrl-C stops everything.", flush=True)
    exit_code = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        dead = [c for c in children if c.process is not None and c.process.returncode is not None]
        if dead:
            for c in dead:
                code = c.process.returncode if c.process else "?"
                print(f"{c.name} exited with {code}; see {log_dir}/{c.name}.log", flush=True)
            exit_code = 1
            break
        if not stop.is_set():
            print(await asyncio.to_thread(status), flush=True)
    for child in reversed(children):
        await child.stop()
    print("stopped.", flush=True)
    return exit_code


def run_until_signal(body: Callable[[asyncio.Event], Awaitable[int]]) -> int:
    """`body(stop)` in a fresh event loop, where Ctrl-C and SIGTERM set `stop`."""

    async def _main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await body(stop)

    return asyncio.run(_main())
