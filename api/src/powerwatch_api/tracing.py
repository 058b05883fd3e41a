"""OpenTelemetry tracing: off unless an OTLP endpoint is configured.

When on, Litestar's OpenTelemetry plugin opens a server span per request (renamed to
the route template once routing has matched, so span names stay low-cardinality) and
every store call runs in a child span naming the stored function. Parameter values
never become attributes: they are the callers' data, and traces leave the process.

The tracer provider is the app's own, not the process-global one, so two apps (or
tests) in one process never fight over a global that can be set only once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from powerwatch_api.queries import StoredQuery
from powerwatch_api.settings import TracingSettings
from powerwatch_api.stores.base import ParamValue, Row, Store

TRACER_NAME = "powerwatch_api"
#: Span attributes of a store call: what ran, never with what.
STORE_KIND = "powerwatch.store.kind"
STORE_FUNCTION = "powerwatch.store.function"
STORE_PARAMETER_NAMES = "powerwatch.store.parameter_names"


def otlp_tracer_provider(settings: TracingSettings) -> TracerProvider:
    """An SDK provider batching spans to the OTLP/HTTP endpoint the OTEL_* env names."""
    # Imported here: the exporter (and protobuf) load only when tracing is on.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
    # The exporter reads endpoint, headers, timeout and TLS from the standard OTEL_* env.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _method_only(scope: Scope) -> tuple[str, dict[str, Any]]:
    # Before routing only the raw path is known, and it carries device ids; the route
    # template replaces this name in RouteSpanMiddleware.
    return str(scope.get("method", "HTTP")), {}


def _drop_query_from_url(span: Span, scope: dict[str, Any]) -> None:
    # The query string holds the callers' filters (device ids, time ranges): data, not
    # telemetry. The instrumentation records it in http.url; keep scheme, host and path.
    if not scope.get("query_string"):
        return
    attributes = getattr(span, "attributes", None) or {}
    url = attributes.get("http.url")
    if isinstance(url, str):
        span.set_attribute("http.url", url.split("?", 1)[0])


def tracing_plugin(provider: TracerProvider) -> OpenTelemetryPlugin:
    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            tracer_provider=provider,
            scope_span_details_extractor=_method_only,
            server_request_hook_handler=_drop_query_from_url,
            # One span per request: the per-message receive/send spans are noise here.
            exclude_spans=["receive", "send"],
        )
    )


class RouteSpanMiddleware:
    """Names the server span after the matched route template (runs after routing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        template = scope.get("path_template")
        if scope["type"] == ScopeType.HTTP and template and span.is_recording():
            span.update_name(f"{scope.get('method')} {template}")
            span.set_attribute(HTTP_ROUTE, template)
        await self.app(scope, receive, send)


class TracedStore:
    """A Store whose run() is a child span carrying the stored function's name."""

    def __init__(self, inner: Store, tracer: Tracer) -> None:
        self.inner = inner
        self.kind = inner.kind
        self._tracer = tracer

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def run(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], *, request_id: str
    ) -> list[Row]:
        with self._tracer.start_as_current_span(
            f"store {query.name}",
            kind=SpanKind.CLIENT,
            attributes={
                STORE_KIND: self.kind,
                STORE_FUNCTION: query.name,
                STORE_PARAMETER_NAMES: sorted(parameters),
            },
            # An exception's message may quote the failed query's values: record the
            # type only.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await self.inner.run(query, parameters, request_id=request_id)
            except Exception as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                raise


def traced_store(store: Store, provider: TracerProvider) -> TracedStore:
    return TracedStore(store, provider.get_tracer(TRACER_NAME))
