"""Request ids, structured access logs and security headers, in one ASGI middleware.

Every request gets an id (a caller's X-Request-ID when it is a safe token, else a new
one); it is bound into structlog's context for every log line of the request, echoed
in the response and passed to the store as part of the Kusto client request id.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace as otel_trace

from powerwatch_api.schema_ui import SCHEMA_CSP, is_schema_path
from powerwatch_api.web import PAGE_CSP, is_page_path

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
#: W3C Trace Context: logs carry the caller's trace id, so they join an OpenTelemetry trace.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
#: Longest request target accepted; every parameter is short, so more is abuse.
MAX_TARGET_BYTES = 4096

#: For API responses: nothing to render, frame or sniff.
API_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
)
access_log = structlog.get_logger("powerwatch_api.access")


def configure_logging(level: str) -> None:
    """JSON lines on stdout, one event per line, with the bound request context."""
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def trace_context_from(scope: Scope) -> dict[str, str]:
    """trace_id/parent span id from a valid ``traceparent`` header, else nothing."""
    for name, value in scope.get("headers", ()):
        if name == b"traceparent":
            match = _TRACEPARENT.fullmatch(value.decode("latin-1").strip())
            if match and set(match.group(1)) != {"0"}:
                return {"trace_id": match.group(1), "parent_span_id": match.group(2)}
            break
    return {}


def active_trace_context() -> dict[str, str]:
    """trace_id/span_id of the request's server span when tracing is on, else nothing.

    The span continues the caller's ``traceparent`` when there is one, so the trace id
    is the same one trace_context_from() reads; without one, logs still join the trace.
    """
    context = otel_trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": otel_trace.format_trace_id(context.trace_id),
        "span_id": otel_trace.format_span_id(context.span_id),
    }


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Pure ASGI (no per-request objects beyond what it needs): this runs on every call."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        docs = is_schema_path(path)  # the OpenAPI UI: its own policy (powerwatch_api.schema_ui)
        page = is_page_path(path)  # the live page has its own policy (powerwatch_api.web)
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers: list[Any] = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                for name, value in API_SECURITY_HEADERS:
                    if docs and name in (b"content-security-policy", b"cache-control"):
                        continue
                    if page and name == b"content-security-policy":
                        continue
                    headers.append((name, value))
                if docs:
                    headers.append((b"content-security-policy", SCHEMA_CSP))
                if page:
                    headers.append((b"content-security-policy", PAGE_CSP))
                message["headers"] = headers
            await send(message)

        trace = active_trace_context() or trace_context_from(scope)
        structlog.contextvars.bind_contextvars(request_id=request_id, **trace)
        try:
            target = len(scope.get("raw_path") or path.encode()) + len(
                scope.get("query_string", b"")
            )
            if target > MAX_TARGET_BYTES:
                await _too_long(send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            access_log.info(
                "request",
                method=scope.get("method"),
                path=path,
                status=status_holder["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
            structlog.contextvars.unbind_contextvars("request_id", *trace)


async def _too_long(send: Send) -> None:
    body = (
        b'{"type":"about:blank","title":"URI Too Long","status":414,'
        b'"detail":"the request target exceeds 4096 bytes"}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 414,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
