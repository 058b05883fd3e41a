"""Prometheus metrics of one gateway instance (own registry: tests run several)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)

from powerwatch_gateway.validation import Reason

PREFIX = "powerwatch_gateway"
# No `*_created` series: they double the exposition and nothing here uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.lines_in = self._counter("lines_received", "Lines read from Driver or replay input")
        self.readings_in = self._counter("readings_accepted", "Lines that passed validation")
        self.rejects = self._counter(
            "readings_rejected", "Lines sent to the dead letter, by reason", "reason"
        )
        for reason in Reason:  # every reason visible from the start, at 0
            self.rejects.labels(reason.value)
        self.spooled = self._counter("readings_spooled", "Readings made durable in the spool")
        self.readings_out = self._counter(
            "readings_delivered", "Readings acknowledged by the sink", "sink"
        )
        self.sink_errors = self._counter("sink_errors", "Failed sink sends (retried)", "sink")
        self.reconnects = self._counter(
            "driver_reconnects", "Driver connection attempts after the first"
        )
        self.connection_errors = self._counter(
            "driver_connection_errors", "Driver connections that failed or ended, by kind", "kind"
        )
        self.connected = self._gauge("driver_connected", "1 while connected to Driver")
        self.spool_depth = self._gauge("spool_depth_records", "Spooled readings not yet consumed")
        self.spool_bytes = self._gauge("spool_depth_bytes", "Bytes of spool not yet consumed")
        self.spool_segments = self._gauge(
            "spool_segments", "Segment files holding unconsumed readings"
        )
        self.ingest_lag = self._gauge(
            "ingest_lag_seconds", "received_at minus ts of the last accepted reading"
        )
        self.delivery_lag = self._gauge(
            "delivery_lag_seconds", "Age (since receipt) of the last reading the sink acknowledged"
        )

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(f"{PREFIX}_{name}", documentation, labels, registry=self.registry)

    def _gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", documentation, registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
