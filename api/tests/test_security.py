"""Transport-level protections: headers, CORS, size limits, request ids, no stack traces."""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from typing import Any

import pytest
from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.queries import StoredQuery
from powerwatch_api.schema_ui import SCHEMA_CSP
from powerwatch_api.settings import ServerSettings, StoreSettings
from powerwatch_api.stores.base import ParamValue, Row
from powerwatch_api.stores.kusto import KustoStore
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto


def local_client(engine: LocalKusto, settings: Settings | None = None) -> TestClient[Any]:
    return TestClient(create_app(settings or Settings(), store=LocalStore(engine=engine)))


def test_security_headers_on_api_and_docs(engine: LocalKusto) -> None:
    with local_client(engine) as client:
        api = client.get("/api/v1/devices")
        assert api.headers["x-content-type-options"] == "nosniff"
        assert api.headers["x-frame-options"] == "DENY"
        assert api.headers["content-security-policy"].startswith("default-src 'none'")
        assert api.headers["cache-control"] == "no-store"
        assert api.headers["referrer-policy"] == "no-referrer"
        assert "server" not in api.headers
        docs = client.get("/schema")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        # The OpenAPI UI is held to this origin too: no CDN, no inline script.
        docs_policy = docs.headers.get_list("content-security-policy")
        assert docs_policy == [SCHEMA_CSP.decode()]
        assert "script-src 'self';" in docs_policy[0]
        assert "frame-ancestors 'none'" in docs_policy[0]
        assert "unsafe-inline" not in docs_policy[0]
        assert "https:" not in docs_policy[0]
        assert docs.headers["x-frame-options"] == "DENY"


def test_cors_is_off_by_default_and_exact_when_configured(engine: LocalKusto) -> None:
    origin = {"Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET"}
    with local_client(engine) as client:
        response = client.get("/api/v1/devices", headers=origin)
        assert "access-control-allow-origin" not in response.headers
        preflight = client.options("/api/v1/devices", headers=origin)
        assert "access-control-allow-origin" not in preflight.headers
    settings = Settings(server=ServerSettings(cors_origins=("https://dashboard.example",)))
    with local_client(engine, settings) as client:
        preflight = client.options("/api/v1/devices", headers=origin)
        assert preflight.headers["access-control-allow-origin"] == "https://dashboard.example"
        other = client.get("/api/v1/devices", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_request_ids_are_echoed_or_generated(engine: LocalKusto) -> None:
    with local_client(engine) as client:
        mine = client.get("/healthz", headers={"X-Request-ID": "trace-abc-123456"})
        assert mine.headers["x-request-id"] == "trace-abc-123456"
        for bad in ("bad id\twith tabs", "short", "x" * 200):
            unsafe = client.get("/healthz", headers={"X-Request-ID": bad})
            assert unsafe.headers["x-request-id"] != bad
            assert len(unsafe.headers["x-request-id"]) == 32


def test_logs_are_json_lines_with_request_and_trace_ids(
    engine: LocalKusto, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with local_client(engine) as client:
        client.get(
            "/healthz",
            headers={
                "X-Request-ID": "req-log-check-1",
                "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
            },
        )
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    (entry,) = [e for e in lines if e.get("request_id") == "req-log-check-1"]
    assert entry["event"] == "request"
    assert entry["path"] == "/healthz"
    assert entry["status"] == 200
    assert entry["trace_id"] == trace_id
    assert entry["duration_ms"] >= 0


def test_oversized_requests_are_refused(engine: LocalKusto) -> None:
    with local_client(engine) as client:
        long_target = client.get("/api/v1/events", params={"device": "a" * 5000})
        assert long_target.status_code == 414
        assert long_target.headers["content-type"] == "application/problem+json"
        body = client.post("/api/v1/events", content=b"x" * 100_000)
        assert body.status_code in (405, 413)


class _BrokenStore:
    """A store with a bug: the only way to see what an unexpected error looks like."""

    kind = "broken"

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def run(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], *, request_id: str
    ) -> list[Row]:
        raise RuntimeError("secret internal detail at /srv/app.py line 42")


def test_unexpected_errors_never_leak_details() -> None:
    with TestClient(create_app(Settings(), store=_BrokenStore())) as client:
        response = client.get("/api/v1/devices")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_an_unreachable_store_is_not_ready() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = StoreSettings(
        cluster_url=f"http://127.0.0.1:{port}", database="db", kusto_auth="none", max_attempts=1
    )
    store = KustoStore(settings, max_result_rows=10)
    with TestClient(create_app(Settings(store=settings), store=store)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["retry-after"] == "5"
        assert ready.json()["type"].endswith("/store-unavailable")
