"""OpenTelemetry tracing with the real SDK, spans kept in its InMemorySpanExporter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio
import pytest
from litestar.plugins.opentelemetry import OpenTelemetryPlugin
from litestar.testing import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from powerwatch_api import Settings, create_app
from powerwatch_api.queries import CRITICAL_EVENTS
from powerwatch_api.settings import SettingsError
from powerwatch_api.stores.base import StoreQueryError
from powerwatch_api.stores.local import LocalStore
from powerwatch_api.tracing import STORE_FUNCTION, STORE_KIND, TracedStore
from powerwatch_kusto import LocalKusto

from .conftest import NOW, iso

DEVICE = "drv-01"
FROM = iso(NOW - timedelta(hours=1))
TO = iso(NOW)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced_client(engine: LocalKusto, exporter: InMemorySpanExporter) -> Iterator[TestClient[Any]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(Settings(), store=LocalStore(engine=engine), tracer_provider=provider)
    with TestClient(app) as client:
        yield client
    provider.shutdown()


def _attribute_values(span: ReadableSpan) -> list[str]:
    return [str(v) for v in (span.attributes or {}).values()]


def test_a_request_has_a_server_span_with_a_child_store_span(
    traced_client: TestClient[Any], exporter: InMemorySpanExporter
) -> None:
    response = traced_client.get(
        "/api/v1/events", params={"from": FROM, "to": TO, "device": DEVICE, "limit": 5}
    )
    assert response.status_code == 200, response.text
    spans = exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind == SpanKind.SERVER]
    (store,) = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert server.name == "GET /api/v1/events"
    assert (server.attributes or {})["http.route"] == "/api/v1/events"
    status = (server.attributes or {}).get("http.status_code") or (server.attributes or {}).get(
        "http.response.status_code"
    )
    assert status == 200
    assert store.parent is not None
    assert server.context is not None
    assert store.parent.span_id == server.context.span_id
    assert store.context is not None
    assert store.context.trace_id == server.context.trace_id
    assert (store.attributes or {})[STORE_FUNCTION] == "CriticalEvents"
    assert (store.attributes or {})[STORE_KIND] == "local"
    # The caller's values (device, time range, limit) are in no store attribute, and the
    # query string that carried them is dropped from the server span's URL.
    assert (server.attributes or {})["http.url"].endswith("/api/v1/events")
    for value in _attribute_values(store):
        for secret in (DEVICE, FROM, TO, FROM[:10], "2026-"):
            assert secret not in value, (value, secret)


def test_the_server_span_continues_the_callers_trace(
    traced_client: TestClient[Any], exporter: InMemorySpanExporter
) -> None:
    response = traced_client.get(
        "/api/v1/devices", headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
    )
    assert response.status_code == 200, response.text
    spans = exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind == SpanKind.SERVER]
    assert server.context is not None
    assert trace.format_trace_id(server.context.trace_id) == TRACE_ID
    assert server.name == "GET /api/v1/devices"


def test_the_access_log_carries_the_server_spans_trace_id(
    traced_client: TestClient[Any],
    exporter: InMemorySpanExporter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    assert traced_client.get("/api/v1/devices").status_code == 200
    (server,) = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert server.context is not None
    trace_id = trace.format_trace_id(server.context.trace_id)
    access = [line for line in capsys.readouterr().out.splitlines() if '"request"' in line]
    assert access
    assert f'"trace_id": "{trace_id}"' in access[-1]


def test_a_failing_store_call_marks_its_span_without_the_error_text(
    engine: LocalKusto, exporter: InMemorySpanExporter
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    store = TracedStore(LocalStore(engine=engine), provider.get_tracer("test"))
    with pytest.raises(StoreQueryError):
        # Parameters that do not match the declaration: refused before any I/O.
        anyio.run(lambda: store.run(CRITICAL_EVENTS, {"deviceId": DEVICE}, request_id="r1"))
    (span,) = exporter.get_finished_spans()
    assert not span.status.is_ok
    assert span.status.description == "StoreQueryError"
    assert not span.events  # no exception event quoting the message
    provider.shutdown()


def test_tracing_is_off_by_default(engine: LocalKusto) -> None:
    app = create_app(Settings(), store=LocalStore(engine=engine))
    assert not any(isinstance(p, OpenTelemetryPlugin) for p in app.plugins)
    assert isinstance(app.state.store, LocalStore)
    # Nothing installed a global provider: the API's default proxy is still in place.
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    assert Settings.from_env({}).tracing.enabled is False


def test_tracing_settings_follow_the_standard_otel_variables() -> None:
    on = Settings.from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SERVICE_NAME": "pw"}
    )
    assert on.tracing.enabled
    assert on.tracing.service_name == "pw"
    traces_only = Settings.from_env(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector.example/v1/traces"}
    )
    assert traces_only.tracing.otlp_endpoint == "https://collector.example/v1/traces"
    for off in ({"OTEL_SDK_DISABLED": "true"}, {"OTEL_TRACES_EXPORTER": "none"}):
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", **off}
        assert Settings.from_env(env).tracing.enabled is False
    with pytest.raises(SettingsError, match="OTLP endpoint"):
        Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"})


def test_an_otlp_endpoint_turns_tracing_on(engine: LocalKusto) -> None:
    settings = Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    app = create_app(settings, store=LocalStore(engine=engine))
    assert any(isinstance(p, OpenTelemetryPlugin) for p in app.plugins)
    assert isinstance(app.state.store, TracedStore)
    with TestClient(app):
        pass  # start-up and shutdown (which flushes and stops the app's own provider)
