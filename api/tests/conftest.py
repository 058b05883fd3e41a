"""Shared fixtures: one dataset, the embedded engine, the local Kusto REST endpoint and
an app over either store (the behaviour suite runs against both)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.settings import StoreSettings
from powerwatch_api.stores.base import Store
from powerwatch_api.stores.kusto import KustoStore
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto
from powerwatch_local.kusto_endpoint import KustoRestEndpoint

#: The engine's now(): DeviceStatus's "silent" depends on it.
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
DATABASE = "powerwatch"


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def reading(device: str, ts: datetime, voltage: float, current: float, seq: int) -> dict[str, Any]:
    """A gateway output record (CONTRACT.md); ids are unique per device and instant."""
    return {
        "reading_id": f"{device}-{seq:05d}",
        "device_id": device,
        "ts": iso(ts),
        "voltage": voltage,
        "current": current,
        "seq": seq,
        "received_at": iso(ts + timedelta(milliseconds=40)),
    }


def dataset() -> list[dict[str, Any]]:
    """Three devices, 1 Hz, with known surges.

    drv-01: 300 s of readings ending 5 min before NOW (silent); two surges: 10 readings at
            6900 W and 5 at 5520 W; one reading at exactly 5000 W (equal is not over).
    drv-02: the last 180 s; its last 3 readings are over (critical).
    plant.a:b_c-1: the last 90 s, all normal.
    """
    records = []
    start = NOW - timedelta(minutes=10)
    for i in range(300):
        current = 30.0 if 100 <= i < 110 else 24.0 if 200 <= i < 205 else 4.0
        voltage = 250.0 if i == 250 else 230.0
        if i == 250:
            current = 20.0  # exactly 5000 W
        records.append(reading("drv-01", start + timedelta(seconds=i), voltage, current, i))
    start = NOW - timedelta(seconds=180)
    for i in range(180):
        current = 25.0 if i >= 177 else 5.0
        records.append(reading("drv-02", start + timedelta(seconds=i), 231.0, current, i))
    start = NOW - timedelta(seconds=90)
    for i in range(90):
        records.append(reading("plant.a:b_c-1", start + timedelta(seconds=i), 229.5, 3.2, i))
    return records


#: Readings over threshold in dataset(): 10 + 5 (drv-01) + 3 (drv-02).
EVENT_COUNT = 18


def make_engine() -> LocalKusto:
    engine = LocalKusto(now=lambda: NOW)
    engine.ingest(dataset())
    return engine


@pytest.fixture(scope="session")
def engine() -> Iterator[LocalKusto]:
    engine = make_engine()
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def kusto_endpoint(engine: LocalKusto) -> Iterator[KustoRestEndpoint]:
    with KustoRestEndpoint(engine, DATABASE) as endpoint:
        yield endpoint


def kusto_store(
    endpoint: KustoRestEndpoint, max_attempts: int = 3, results_cache_max_age_s: float = 0.0
) -> KustoStore:
    settings = StoreSettings(
        cluster_url=endpoint.url,
        database=DATABASE,
        kusto_auth="none",
        request_timeout_s=10,
        max_attempts=max_attempts,
        kusto_results_cache_max_age_s=results_cache_max_age_s,
    )
    return KustoStore(settings, max_result_rows=10_000, backoff_base_s=0.01)


def build_store(kind: str, engine: LocalKusto, endpoint: KustoRestEndpoint) -> Store:
    if kind == "local":
        return LocalStore(engine=engine)
    return kusto_store(endpoint)


@pytest.fixture(params=["local", "kusto"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(
    store_kind: str, engine: LocalKusto, kusto_endpoint: KustoRestEndpoint
) -> Iterator[TestClient[Any]]:
    """The app over LocalStore, or over KustoStore -> real HTTP -> the REST v2 endpoint."""
    app = create_app(Settings(), store=build_store(store_kind, engine, kusto_endpoint))
    with TestClient(app) as test_client:
        yield test_client
