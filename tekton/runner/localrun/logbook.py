"""A Tekton-like log: ``[task : step] line``, safe to write from several threads.

Every line is also kept (seconds since the start, task, step, text) for the HTML
run report.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

# Colour codes some tools print even into a pipe (twine, rich): not for a log file.
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Entry:
    seconds: float
    task: str
    step: str
    text: str


class Logbook:
    def __init__(self, stream: TextIO | None = None, *, clock: bool = True) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._clock = clock
        self.entries: list[Entry] = []

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def line(self, task: str, step: str, text: str) -> None:
        prefix = f"[{task} : {step}]" if step else f"[{task}]"
        seconds = self.elapsed()
        clean = ANSI.sub("", text).rstrip()
        stamp = f"{seconds:7.1f}s " if self._clock else ""
        with self._lock:
            self.entries.append(Entry(seconds, task, step, clean))
            self._stream.write(f"{stamp}{prefix} {clean}\n")
            self._stream.flush()

    def note(self, text: str) -> None:
        with self._lock:
            self._stream.write(f"{text.rstrip()}\n")
            self._stream.flush()
