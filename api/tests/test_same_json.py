"""Same data in, same JSON out: LocalStore and KustoStore (real client over HTTP) agree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_kusto import LocalKusto
from powerwatch_local.kusto_endpoint import KustoRestEndpoint

from .conftest import NOW, build_store, iso

URLS = [
    ("/api/v1/events", {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW), "limit": 7}),
    ("/api/v1/events", {"device": "drv-02", "from": iso(NOW - timedelta(hours=1)), "to": iso(NOW)}),
    ("/api/v1/incidents", {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW)}),
    (
        "/api/v1/devices/drv-02/power",
        {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW), "bin": "1m"},
    ),
    (
        "/api/v1/devices/plant.a:b_c-1/power",
        {"from": iso(NOW - timedelta(days=2)), "to": iso(NOW), "bin": "1h"},
    ),
    ("/api/v1/devices", {}),
]


def answers(kind: str, engine: LocalKusto, endpoint: KustoRestEndpoint) -> list[Any]:
    app = create_app(Settings(), store=build_store(kind, engine, endpoint))
    with TestClient(app) as client:
        out = []
        for url, params in URLS:
            response = client.get(url, params=params)
            assert response.status_code == 200, response.text
            out.append(response.json())
        # Follow one cursor too: it encodes store-returned timestamps.
        cursor = out[0]["next_cursor"]
        out.append(client.get("/api/v1/events", params={"cursor": cursor}).json())
        return out


def test_both_stores_give_identical_json(
    engine: LocalKusto, kusto_endpoint: KustoRestEndpoint
) -> None:
    local = answers("local", engine, kusto_endpoint)
    remote = answers("kusto", engine, kusto_endpoint)
    assert all(local[i] for i in range(len(local)))
    assert local == remote
