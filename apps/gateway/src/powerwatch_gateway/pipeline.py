"""The ingest path: lines → validate → batch (count or time) → spool.

Shared by the Driver connection, replay mode and the benchmark, so all three
measure and exercise the same code. Batches are made durable by one writer
task; a full queue makes `feed` wait, which stops reading from Driver (TCP
back-pressure) instead of growing memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from powerwatch_gateway.backoff import Backoff
from powerwatch_gateway.deadletter import DeadLetterWriter
from powerwatch_gateway.metrics import GatewayMetrics
from powerwatch_gateway.sinks import RecordBatch, Sink
from powerwatch_gateway.validation import Rejection, Validator

log = structlog.get_logger(__name__)


class IngestPipeline:
    def __init__(
        self,
        validator: Validator,
        sink: Sink,
        dead_letters: DeadLetterWriter,
        metrics: GatewayMetrics,
        *,
        batch_max: int = 1000,
        batch_interval_s: float = 0.2,
        queue_batches: int = 8,
        on_durable: Callable[[RecordBatch], None] | None = None,
    ) -> None:
        self._validator = validator
        self._sink = sink
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._batch_max = batch_max
        self._interval = batch_interval_s
        self._queue: asyncio.Queue[RecordBatch | None] = asyncio.Queue(queue_batches)
        self._on_durable = on_durable
        self._pending: list[bytes] = []  # NDJSON chunks of output records
        self._pending_count = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.sink_healthy = True
        self.lines = 0
        self.accepted = 0
        self.rejected: dict[str, int] = {}

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write_batches(), name="spool-writer"),
            asyncio.create_task(self._flush_on_time(), name="batch-timer"),
        ]

    async def feed(self, lines: list[bytes], rejections: list[Rejection], source: str) -> None:
        """Validate complete lines; `rejections` are the reader's own (too long, cut off)."""
        received_at = datetime.now(UTC)
        result = self._validator.validate(lines, received_at)
        self.lines += len(lines) + len(rejections)
        self._metrics.lines_in.inc(len(lines) + len(rejections))
        if rejections or result.rejections:
            self._reject(rejections + result.rejections, received_at, source)
        if result.accepted:
            self.accepted += result.accepted
            self._metrics.readings_in.inc(result.accepted)
            if result.last_ts is not None:
                self._metrics.ingest_lag.set((received_at - result.last_ts).total_seconds())
            self._pending.append(result.records)
            self._pending_count += result.accepted
            if self._pending_count >= self._batch_max:
                await self.flush()

    def reject(self, rejection: Rejection, source: str) -> None:
        self.lines += 1
        self._metrics.lines_in.inc()
        self._reject([rejection], datetime.now(UTC), source)

    async def flush(self) -> None:
        if self._pending:
            batch = RecordBatch(b"".join(self._pending), self._pending_count)
            self._pending, self._pending_count = [], 0
            await self._queue.put(batch)

    async def close(self) -> None:
        """Flush what is batched and wait until it is durable."""
        await self.flush()
        await self._queue.put(None)
        writer, timer = self._tasks
        timer.cancel()
        await asyncio.gather(writer, timer, return_exceptions=True)
        self._dead_letters.close()

    def _reject(self, rejections: list[Rejection], at: datetime, source: str) -> None:
        self._dead_letters.write(rejections, at, source)
        for rejection in rejections:
            reason = rejection.reason.value
            self.rejected[reason] = self.rejected.get(reason, 0) + 1
            self._metrics.rejects.labels(reason).inc()

    async def _flush_on_time(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
            self._dead_letters.flush()

    async def _write_batches(self) -> None:
        backoff = Backoff(0.1, 5.0)
        closing = False
        while not closing:
            batch = await self._queue.get()
            if batch is None:
                return
            # Group commit: whatever queued up meanwhile goes in the same
            # write + fsync, so a slow disk costs fewer, larger syncs.
            parts, count = [batch.data], batch.count
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    closing = True
                    break
                parts.append(more.data)
                count += more.count
            batch = RecordBatch(b"".join(parts), count) if len(parts) > 1 else batch
            while True:
                try:
                    await self._sink.send(batch)
                    break
                except OSError as error:  # disk full, read-only: hold the batch, retry
                    self.sink_healthy = False
                    self._metrics.sink_errors.labels(self._sink.name).inc()
                    delay = backoff.next_delay()
                    log.error("spool_write_failed", error=str(error), retry_in_s=round(delay, 2))
                    await asyncio.sleep(delay)
            backoff.reset()
            self.sink_healthy = True
            self._dead_letters.flush()
            self._metrics.spooled.inc(batch.count)
            if self._on_durable is not None:
                self._on_durable(batch)
