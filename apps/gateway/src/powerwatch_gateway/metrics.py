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
        r = self.registry
        self.lines_in = Counter(
            f"{PREFIX}_lines_received", "Lines read from Driver or replay input", registry=r
        )
        self.readings_in = Counter(
            f"{PREFIX}_readings_accepted", "Lines that passed validation", registry=r
        )
        self.rejects = Counter(
            f"{PREFIX}_readings_rejected",
            "Lines sent to the dead letter, by reason",
            ["reason"],
            registry=r,
        )
        for reason in Reason:  # every reason visible from the start, at 0
            self.rejects.labels(reason.value)
        self.spooled = Counter(
            f"{PREFIX}_readings_spooled", "Readings made durable in the spool", registry=r
        )
        self.readings_out = Counter(
            f"{PREFIX}_readings_delivered",
            "Readings acknowledged by the sink",
            ["sink"],
            registry=r,
        )
        self.sink_errors = Counter(
            f"{PREFIX}_sink_errors", "Failed sink sends (retried)", ["sink"], registry=r
        )
        self.reconnects = Counter(
            f"{PREFIX}_driver_reconnects", "Driver connection attempts after the first", registry=r
        )
        self.connection_errors = Counter(
            f"{PREFIX}_driver_connection_errors",
            "Driver connections that failed or ended, by kind",
            ["kind"],
            registry=r,
        )
        self.connected = Gauge(
            f"{PREFIX}_driver_connected", "1 while connected to Driver", registry=r
        )
        self.spool_depth = Gauge(
            f"{PREFIX}_spool_depth_records", "Spooled readings not yet consumed", registry=r
        )
        self.spool_bytes = Gauge(
            f"{PREFIX}_spool_depth_bytes", "Bytes of spool not yet consumed", registry=r
        )
        self.spool_segments = Gauge(
            f"{PREFIX}_spool_segments", "Segment files holding unconsumed readings", registry=r
        )
        self.ingest_lag = Gauge(
            f"{PREFIX}_ingest_lag_seconds",
            "received_at minus ts of the last accepted reading",
            registry=r,
        )
        self.delivery_lag = Gauge(
            f"{PREFIX}_delivery_lag_seconds",
            "Age (since receipt) of the last reading the sink acknowledged",
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
