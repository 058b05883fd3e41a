"""Replay mode: NDJSON from a file or stdin through the same validation and sink."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from powerwatch_gateway.lines import LineSplitter
from powerwatch_gateway.service import Gateway
from powerwatch_gateway.settings import Settings
from powerwatch_gateway.sinks import Sink

READ_CHUNK = 1 << 20


@dataclass
class ReplaySummary:
    source: str
    sink: str
    lines: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    delivered: int | None = None
    left_in_spool: int = 0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "sink": self.sink,
            "lines": self.lines,
            "accepted": self.accepted,
            "rejected_total": self.rejected_total,
            "rejected": dict(sorted(self.rejected.items())),
            "delivered": self.delivered,
            "left_in_spool": self.left_in_spool,
        }


async def replay(settings: Settings, source: str, remote_sink: Sink | None = None) -> ReplaySummary:
    label = "replay:stdin" if source == "-" else f"replay:{source}"
    # Opened before anything else so a missing file fails fast with a clear error.
    stream: BinaryIO = sys.stdin.buffer if source == "-" else Path(source).open("rb")  # noqa: SIM115, ASYNC230
    gateway = Gateway(settings, remote_sink)
    gateway.replaying = True
    await gateway.start()
    splitter = LineSplitter(settings.max_line_bytes)
    try:
        read = getattr(stream, "read1", stream.read)  # read1: don't wait to fill 1 MiB
        while chunk := await asyncio.to_thread(read, READ_CHUNK):
            lines, rejections = splitter.feed(chunk)
            await gateway.pipeline.feed(lines, rejections, label)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    tail = splitter.finish()
    if tail is not None:
        gateway.pipeline.reject(tail, label)
    await gateway.pipeline.close()
    summary = ReplaySummary(label, settings.sink)
    if gateway.forwarder is not None:
        stop = asyncio.Event()
        stop.set()  # drain what is spooled, then return (or give up at the deadline)
        await gateway.forwarder.run(stop, [time.monotonic() + settings.shutdown_grace_s])
        summary.delivered = gateway.forwarder.delivered
        summary.left_in_spool = gateway.depth.measure().records
    if gateway.remote_sink is not None:
        await gateway.remote_sink.close()
    await asyncio.to_thread(gateway.spool.close)
    summary.lines = gateway.pipeline.lines
    summary.accepted = gateway.pipeline.accepted
    summary.rejected = dict(gateway.pipeline.rejected)
    return summary
