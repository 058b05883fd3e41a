"""Moves spooled readings to a remote sink, in order, at least once.

It reads the spool as the consumer named after the sink, sends a chunk, and
only then commits its checkpoint. When the sink raises, the chunk is retried
with backoff until it goes through: the spool absorbs the outage and the
replay keeps the original order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import msgspec
import structlog

from powerwatch_gateway.backoff import Backoff
from powerwatch_gateway.metrics import GatewayMetrics
from powerwatch_gateway.model import OutputRecord
from powerwatch_gateway.sinks import RecordBatch, Sink
from powerwatch_gateway.spool import SpoolReader

log = structlog.get_logger(__name__)
_decoder = msgspec.json.Decoder(OutputRecord)


class Forwarder:
    def __init__(
        self,
        reader: SpoolReader,
        sink: Sink,
        metrics: GatewayMetrics,
        backoff: Backoff,
        chunk_bytes: int = 1 << 20,
    ) -> None:
        self._reader = reader
        self._sink = sink
        self._metrics = metrics
        self._backoff = backoff
        self._chunk_bytes = chunk_bytes
        self.wake = asyncio.Event()
        self.healthy = True
        self.delivered = 0

    async def run(self, stop: asyncio.Event, drain_deadline: list[float]) -> None:
        """Forward until `stop` is set and the spool is drained (or the deadline passes).

        `drain_deadline` holds one monotonic time, set by the owner when stopping.
        """
        while True:
            chunk = await asyncio.to_thread(self._reader.read, self._chunk_bytes)
            if chunk is None:
                if stop.is_set():
                    return
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=0.5)
                continue
            batch = RecordBatch(chunk.data, chunk.data.count(b"\n"))
            while True:
                try:
                    await self._sink.send(batch)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # any SDK/transport error: keep it spooled, retry
                    self.healthy = False
                    self._metrics.sink_errors.labels(self._sink.name).inc()
                    delay = self._backoff.next_delay()
                    log.warning(
                        "sink_send_failed",
                        sink=self._sink.name,
                        error=f"{type(error).__name__}: {error}"[:300],
                        retry_in_s=round(delay, 2),
                        records=batch.count,
                    )
                    if stop.is_set() and time.monotonic() + delay > drain_deadline[0]:
                        return  # stays in the spool; the next start replays it
                    await asyncio.sleep(delay)
            self._backoff.reset()
            self.healthy = True
            await asyncio.to_thread(self._reader.commit, chunk.end)
            self.delivered += batch.count
            self._metrics.readings_out.labels(self._sink.name).inc(batch.count)
            last = _decoder.decode(chunk.data[chunk.data.rfind(b"\n", 0, -1) + 1 :])
            self._metrics.delivery_lag.set((datetime.now(UTC) - last.received_at).total_seconds())
