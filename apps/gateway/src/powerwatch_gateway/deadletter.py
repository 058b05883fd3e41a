"""Dead-letter output: one NDJSON line per rejected input line, with its reason.

The raw line is kept bounded (first `raw_max_bytes` bytes) and made JSON-safe
with backslash escapes for bytes that are not UTF-8, so any input — even
binary garbage — produces a well-formed dead-letter line. When the file passes
`max_file_bytes` it is rotated once to `<name>.1`; counters keep the totals.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import msgspec

from powerwatch_gateway.validation import Rejection


class DeadLetter(msgspec.Struct, frozen=True):
    at: datetime
    source: str
    reason: str
    detail: str
    raw: str
    raw_bytes: int
    raw_truncated: bool


class DeadLetterWriter:
    def __init__(
        self, path: Path, raw_max_bytes: int = 2048, max_file_bytes: int = 64 << 20
    ) -> None:
        self.path = path
        self._raw_max = raw_max_bytes
        self._max_file = max_file_bytes
        self._encoder = msgspec.json.Encoder()
        self._handle: BinaryIO | None = None
        self._size = 0

    def write(self, rejections: Iterable[Rejection], at: datetime, source: str) -> None:
        records = [
            DeadLetter(
                at=at,
                source=source,
                reason=rejection.reason.value,
                detail=rejection.detail,
                raw=rejection.raw[: self._raw_max].decode("utf-8", errors="backslashreplace"),
                raw_bytes=len(rejection.raw),
                raw_truncated=len(rejection.raw) > self._raw_max,
            )
            for rejection in rejections
        ]
        if not records:
            return
        data = self._encoder.encode_lines(records)
        handle = self._open()
        handle.write(data)
        self._size += len(data)
        if self._size >= self._max_file:
            self._rotate()

    def flush(self) -> None:
        """Make written dead letters durable (called with every spool batch)."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self.flush()
            self._handle.close()
            self._handle = None

    def _open(self) -> BinaryIO:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("ab")
            self._size = self._handle.tell()
        return self._handle

    def _rotate(self) -> None:
        self.close()
        os.replace(self.path, self.path.with_name(self.path.name + ".1"))
