"""The connection to Driver: TLS client, reconnect with backoff, silent-Driver watchdog.

The stream is read in chunks and split by `LineSplitter` (which enforces the
maximum line length), so an over-long or broken line costs one dead letter and
never the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

import structlog

from powerwatch_gateway.backoff import Backoff
from powerwatch_gateway.lines import LineSplitter
from powerwatch_gateway.metrics import GatewayMetrics
from powerwatch_gateway.pipeline import IngestPipeline

log = structlog.get_logger(__name__)

READ_CHUNK = 1 << 16


class SilentDriverError(TimeoutError):
    """No bytes from Driver within the watchdog period."""


class DriverClient:
    def __init__(
        self,
        host: str,
        port: int,
        context: ssl.SSLContext,
        pipeline: IngestPipeline,
        metrics: GatewayMetrics,
        *,
        server_name: str | None = None,
        max_line_bytes: int = 4096,
        silent_after_s: float = 15.0,
        connect_timeout_s: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._context = context
        self._server_name = server_name or host
        self._pipeline = pipeline
        self._metrics = metrics
        self._max_line = max_line_bytes
        self._silent_after = silent_after_s
        self._connect_timeout = connect_timeout_s
        self._backoff = backoff or Backoff(0.5, 30.0)
        self.source = f"driver:{host}:{port}"
        self.connected = False
        self.connections = 0
        self.last_error: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set; every failure leads to a reconnect."""
        while not stop.is_set():
            if self.connections:
                self._metrics.reconnects.inc()
            self.connections += 1
            try:
                received = await self.connect_once(stop)
                kind = "closed_by_driver"
            except SilentDriverError:
                received, kind = -1, "silent"
                self.last_error = f"no data for {self._silent_after}s"
            except ssl.SSLError as error:  # includes certificate verification failures
                received, kind = 0, "tls"
                self.last_error = f"{type(error).__name__}: {error}"
            except (OSError, TimeoutError) as error:
                received, kind = 0, "network"
                self.last_error = f"{type(error).__name__}: {error}"
            if stop.is_set():
                return
            self._metrics.connection_errors.labels(kind).inc()
            if received > 0:
                self._backoff.reset()  # it worked for a while: reconnect promptly
            delay = self._backoff.next_delay()
            log.warning(
                "driver_disconnected", kind=kind, error=self.last_error, retry_in_s=round(delay, 2)
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    async def connect_once(self, stop: asyncio.Event) -> int:
        """One connection until EOF; returns the number of bytes received."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                self._host,
                self._port,
                ssl=self._context,
                server_hostname=self._server_name,
                limit=max(self._max_line * 2, READ_CHUNK),
            ),
            timeout=self._connect_timeout,
        )
        self.connected = True
        self._metrics.connected.set(1)
        tls = writer.get_extra_info("ssl_object")
        log.info(
            "driver_connected",
            host=self._host,
            port=self._port,
            tls_version=tls.version() if tls else None,
            cipher=tls.cipher()[0] if tls else None,
        )
        splitter = LineSplitter(self._max_line)
        received = 0
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                read = asyncio.ensure_future(reader.read(READ_CHUNK))
                done, _ = await asyncio.wait(
                    {read, stopping},
                    timeout=self._silent_after,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if read not in done:
                    read.cancel()
                    if stopping in done:
                        return received
                    raise SilentDriverError
                data = read.result()
                if not data:
                    break
                received += len(data)
                lines, rejections = splitter.feed(data)
                await self._pipeline.feed(lines, rejections, self.source)
            return received
        finally:
            # However the stream ended (EOF, reset, watchdog), a cut-off last
            # line is dead-lettered rather than lost.
            tail = splitter.finish()
            if tail is not None:
                self._pipeline.reject(tail, self.source)
            stopping.cancel()
            self.connected = False
            self._metrics.connected.set(0)
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), timeout=2)
