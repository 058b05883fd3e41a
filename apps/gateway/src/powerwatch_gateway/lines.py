"""Splits a byte stream into lines, enforcing the maximum line length while reading.

An over-long line is cut off as soon as it passes the limit (its first bytes
are kept for the dead letter, the rest is skipped up to the next newline), so
one bad line costs bounded memory and never ends the connection.
"""

from __future__ import annotations

from powerwatch_gateway.validation import Reason, Rejection


class LineSplitter:
    def __init__(self, max_line_bytes: int) -> None:
        self._max = max_line_bytes
        self._partial = b""
        self._discarding = False  # inside an over-long line, until its newline

    def feed(self, data: bytes) -> tuple[list[bytes], list[Rejection]]:
        """Add received bytes; return the complete lines and over-long rejections."""
        rejections: list[Rejection] = []
        if self._discarding:
            cut = data.find(b"\n")
            if cut < 0:
                return [], rejections
            data = data[cut + 1 :]
            self._discarding = False
        if self._partial:
            data = self._partial + data
        parts = data.split(b"\n")
        self._partial = parts.pop()
        if len(self._partial) > self._max:
            rejections.append(self._too_long(self._partial))
            self._partial = b""
            self._discarding = True
        if parts and max(map(len, parts)) > self._max:
            kept = []
            for part in parts:
                if len(part) > self._max:
                    rejections.append(self._too_long(part))
                else:
                    kept.append(part)
            parts = kept
        return parts, rejections

    def finish(self) -> Rejection | None:
        """At end of stream: a trailing line without newline is incomplete (dropped mid-line)."""
        partial, self._partial = self._partial, b""
        self._discarding = False
        if partial.strip():
            return Rejection(Reason.INCOMPLETE_LINE, "stream ended inside a line", partial)
        return None

    def _too_long(self, prefix: bytes) -> Rejection:
        return Rejection(
            Reason.LINE_TOO_LONG, f"line longer than {self._max} bytes", prefix[: self._max]
        )
