"""Wires the gateway together and runs it until stopped.

Driver ──TLS──► DriverClient ──► IngestPipeline ──► SpoolSink (durable)
                                                       │
                      sink=eventhubs: Forwarder ◄──────┘──► EventHubsSink
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import timedelta

import msgspec
import structlog

from powerwatch_gateway.backoff import Backoff
from powerwatch_gateway.deadletter import DeadLetterWriter
from powerwatch_gateway.driver_client import DriverClient
from powerwatch_gateway.forwarder import Forwarder
from powerwatch_gateway.http_server import HttpServer, Response
from powerwatch_gateway.metrics import GatewayMetrics
from powerwatch_gateway.pipeline import IngestPipeline
from powerwatch_gateway.settings import Settings, SettingsError
from powerwatch_gateway.sinks import EventHubsSink, RecordBatch, Sink, SpoolSink
from powerwatch_gateway.spool import DepthGauge, SpoolReader, SpoolWriter
from powerwatch_gateway.tls import client_context
from powerwatch_gateway.validation import Validator

log = structlog.get_logger(__name__)

MAINTENANCE_EVERY_S = 2.0


def make_remote_sink(settings: Settings) -> Sink | None:
    if settings.sink != "eventhubs":
        return None
    if not (settings.eventhubs_namespace and settings.eventhubs_name):
        raise SettingsError("GATEWAY_EVENTHUBS_NAMESPACE and GATEWAY_EVENTHUBS_NAME are required")
    return EventHubsSink.from_settings(settings.eventhubs_namespace, settings.eventhubs_name)


class Gateway:
    """One gateway instance; `remote_sink` may be injected (tests fake only the SDK producer)."""

    def __init__(self, settings: Settings, remote_sink: Sink | None = None) -> None:
        self.settings = settings
        self.metrics = GatewayMetrics()
        self.spool = SpoolWriter(
            settings.spool_path, settings.segment_max_bytes, settings.segment_seal_after_s
        )
        self.depth = DepthGauge(settings.spool_path)
        self.remote_sink = remote_sink if remote_sink is not None else make_remote_sink(settings)
        self.forwarder: Forwarder | None = None
        self.pipeline = IngestPipeline(
            Validator(timedelta(seconds=settings.max_future_skew_s)),
            SpoolSink(self.spool),
            DeadLetterWriter(settings.dead_letter_path, settings.dead_letter_raw_max_bytes),
            self.metrics,
            batch_max=settings.batch_max,
            batch_interval_s=settings.batch_interval_s,
            on_durable=self._on_durable,
        )
        self.driver: DriverClient | None = None
        if settings.driver_host:
            if not (
                settings.driver_ca_file and settings.driver_cert_file and settings.driver_key_file
            ):
                raise SettingsError("the Driver CA, certificate and key files are required")
            self.driver = DriverClient(
                settings.driver_host,
                settings.driver_port,
                client_context(
                    settings.driver_ca_file, settings.driver_cert_file, settings.driver_key_file
                ),
                self.pipeline,
                self.metrics,
                server_name=settings.driver_server_name,
                max_line_bytes=settings.max_line_bytes,
                silent_after_s=settings.silent_after_s,
                connect_timeout_s=settings.connect_timeout_s,
                backoff=Backoff(settings.backoff_initial_s, settings.backoff_max_s),
            )
        self.http = HttpServer(
            settings.http_host,
            settings.http_port,
            {"/healthz": self._healthz, "/readyz": self._readyz, "/metrics": self._metrics},
        )
        self.replaying = False
        self._started = False
        self._forwarder_stop = asyncio.Event()
        self._drain_deadline = [float("inf")]

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self.spool.open)
        await self.pipeline.start()
        if self.remote_sink is not None:
            self.forwarder = Forwarder(
                SpoolReader(self.settings.spool_path, self.remote_sink.name),
                self.remote_sink,
                self.metrics,
                Backoff(self.settings.backoff_initial_s, self.settings.backoff_max_s),
            )
        self._started = True

    async def serve(self, stop: asyncio.Event) -> None:
        """The long-running service: HTTP, Driver, forwarder, maintenance; until `stop`."""
        await self.start()
        await self.http.start()
        if self.settings.http_port_file is not None:
            self.settings.http_port_file.write_text(str(self.http.port), encoding="utf-8")
        if self.driver is None:
            log.warning(
                "no_driver_configured", hint="set GATEWAY_DRIVER_HOST; not ready until then"
            )
        tasks = [asyncio.create_task(self._maintain(stop), name="maintenance")]
        if self.driver is not None:
            tasks.append(asyncio.create_task(self.driver.run(stop), name="driver"))
        if self.forwarder is not None:
            # The forwarder gets its own stop: it must outlive the final batch flush.
            forwarder = self.forwarder.run(self._forwarder_stop, self._drain_deadline)
            tasks.append(asyncio.create_task(forwarder, name="forwarder"))
        log.info("gateway_started", sink=self.settings.sink, spool=str(self.settings.spool_path))
        await stop.wait()
        log.info("gateway_stopping")
        await self.shutdown(tasks)

    async def shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop reading, flush the batch to the spool, let the forwarder drain, close."""
        driver_tasks = [t for t in tasks if t.get_name() in ("driver", "maintenance")]
        await asyncio.gather(*driver_tasks, return_exceptions=True)
        await self.pipeline.close()
        if self.forwarder is not None:
            self._drain_deadline[0] = time.monotonic() + self.settings.shutdown_grace_s
            self._forwarder_stop.set()
            self.forwarder.wake.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.remote_sink is not None:
            await self.remote_sink.close()
        await asyncio.to_thread(self.spool.close)
        await self.http.close()
        log.info(
            "gateway_stopped", accepted=self.pipeline.accepted, rejected=self.pipeline.rejected
        )

    # -- internals -------------------------------------------------------------
    def _on_durable(self, batch: RecordBatch) -> None:
        if self.forwarder is not None:
            self.forwarder.wake.set()

    async def _maintain(self, stop: asyncio.Event) -> None:
        """Seal idle segments, prune consumed ones, refresh the spool gauges."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self._maintenance_step)
            except OSError as error:
                log.error("spool_maintenance_failed", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=MAINTENANCE_EVERY_S)

    def _maintenance_step(self) -> None:
        self.spool.seal_if_idle()
        self.spool.prune()
        depth = self.depth.measure()
        self.metrics.spool_depth.set(depth.records)
        self.metrics.spool_bytes.set(depth.bytes)
        self.metrics.spool_segments.set(depth.segments)

    def readiness(self) -> dict[str, object]:
        driver_ok = self.replaying or (self.driver is not None and self.driver.connected)
        spool_ok = (
            self._started
            and self.pipeline.sink_healthy
            and os.access(self.settings.spool_path / "segments", os.W_OK)
        )
        return {
            "ready": bool(driver_ok and spool_ok),
            "driver_connected": bool(self.driver is not None and self.driver.connected),
            "driver_configured": self.driver is not None,
            "replaying": self.replaying,
            "spool_writable": bool(spool_ok),
            "sink": self.settings.sink,
            "remote_sink_healthy": None if self.forwarder is None else self.forwarder.healthy,
            "last_driver_error": None if self.driver is None else self.driver.last_error,
        }

    def _healthz(self) -> Response:
        return Response(200, b'{"status":"ok"}')

    def _readyz(self) -> Response:
        state = self.readiness()
        return Response(200 if state["ready"] else 503, msgspec.json.encode(state))

    def _metrics(self) -> Response:
        return Response(200, self.metrics.render(), "text/plain; version=0.0.4; charset=utf-8")
