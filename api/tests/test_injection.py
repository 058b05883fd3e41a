"""KQL injection through every parameter is inert.

At the edge, every parameter is validated (shape, type, enum, cursor), so hostile text
gets a 400 and never reaches a store. Behind the edge, even text that skipped
validation stays a value: both stores bind it as a declared parameter, so it matches
nothing instead of changing the query.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from litestar.testing import TestClient
from powerwatch_api import queries
from powerwatch_kusto import LocalKusto
from powerwatch_local.kusto_endpoint import KustoRestEndpoint

from .conftest import NOW, build_store, iso

# The one list of hostile texts; bench/security_probes.py sends the same against a served API.
PAYLOADS: list[str] = json.loads(
    (Path(__file__).parent / "data/kql_injection_payloads.json").read_text(encoding="utf-8")
)
WINDOW = {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW)}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_api_parameter_refuses_hostile_text(client: TestClient[Any], payload: str) -> None:
    attempts = [
        ("/api/v1/events", {**WINDOW, "device": payload}),
        ("/api/v1/events", {"from": payload, "to": iso(NOW)}),
        ("/api/v1/events", {"from": iso(NOW - timedelta(hours=1)), "to": payload}),
        ("/api/v1/events", {**WINDOW, "limit": payload}),
        ("/api/v1/events", {"cursor": payload}),
        ("/api/v1/incidents", {**WINDOW, "device": payload}),
        ("/api/v1/incidents", {**WINDOW, "limit": payload}),
        ("/api/v1/devices/drv-01/power", {**WINDOW, "bin": payload}),
    ]
    for url, params in attempts:
        response = client.get(url, params=params)
        assert response.status_code == 400, (url, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    quoted = urllib.parse.quote(payload, safe="")
    path = client.get(f"/api/v1/devices/{quoted}/power", params=WINDOW)
    assert path.status_code in (400, 404)


def test_stores_bind_hostile_strings_as_plain_values(
    store_kind: str, engine: LocalKusto, kusto_endpoint: KustoRestEndpoint
) -> None:
    store = build_store(store_kind, engine, kusto_endpoint)
    base = {
        "fromTime": NOW - timedelta(hours=1),
        "toTime": NOW,
        "deviceId": "",
        "maxRows": 100,
        "afterTime": None,
        "afterReadingId": "",
    }

    async def go() -> dict[str, Any]:
        await store.open()
        try:
            out: dict[str, Any] = {
                "all": await store.run(queries.CRITICAL_EVENTS, base, request_id="t")
            }
            for payload in PAYLOADS:
                out[payload] = await store.run(
                    queries.CRITICAL_EVENTS,
                    {**base, "deviceId": payload, "afterTime": NOW, "afterReadingId": payload},
                    request_id="t",
                )
            return out
        finally:
            await store.close()

    results = anyio.run(go)
    assert len(results.pop("all")) == 18
    # Each hostile device id matched no device: the text was compared, never executed.
    assert results == {payload: [] for payload in PAYLOADS}
