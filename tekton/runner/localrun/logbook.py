"""A Tekton-like log: ``[task : step] line``, safe to write from several threads."""

from __future__ import annotations

import re
import sys
import threading
import time
from typing import TextIO

# Colour codes some tools print even into a pipe (twine, rich): not for a log file.
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Logbook:
    def __init__(self, stream: TextIO | None = None, *, clock: bool = True) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._clock = clock

    def line(self, task: str, step: str, text: str) -> None:
        prefix = f"[{task} : {step}]" if step else f"[{task}]"
        stamp = f"{time.monotonic() - self._start:7.1f}s " if self._clock else ""
        with self._lock:
            self._stream.write(f"{stamp}{prefix} {ANSI.sub('', text).rstrip()}\n")
            self._stream.flush()

    def note(self, text: str) -> None:
        with self._lock:
            self._stream.write(f"{text.rstrip()}\n")
            self._stream.flush()
