"""KustoStore through the real azure-kusto-data client, over HTTP, to the local REST v2
endpoint: what it sends (parameters, options, request ids) and how it retries."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio
import pytest
from powerwatch_api import queries
from powerwatch_api.settings import StoreSettings
from powerwatch_api.stores.base import StoreQueryError, StoreUnavailableError
from powerwatch_api.stores.kusto import KustoStore
from powerwatch_kusto import LocalKusto
from powerwatch_local.kusto_endpoint import KustoRestEndpoint

from ..conftest import NOW, kusto_store

EVENTS_PARAMS: dict[str, Any] = {
    "fromTime": NOW - timedelta(hours=1),
    "toTime": NOW,
    "deviceId": "drv-01",
    "maxRows": 3,
    "afterTime": None,
    "afterReadingId": "",
}


@pytest.fixture
def endpoint(engine: LocalKusto) -> Iterator[KustoRestEndpoint]:
    """A private endpoint: these tests read its request log and inject faults."""
    with KustoRestEndpoint(engine, "powerwatch") as ep:
        yield ep


def run(store: KustoStore, query: queries.StoredQuery, params: dict[str, Any]) -> Any:
    async def go() -> Any:
        await store.open()
        try:
            return await store.run(query, params, request_id="req-123")
        finally:
            await store.close()

    return anyio.run(go)


def test_parameters_travel_as_kql_literals_beside_the_text(endpoint: KustoRestEndpoint) -> None:
    rows = run(kusto_store(endpoint), queries.CRITICAL_EVENTS, EVENTS_PARAMS)
    assert [r["ReadingId"] for r in rows] == ["drv-01-00204", "drv-01-00203", "drv-01-00202"]
    (sent,) = endpoint.requests
    assert sent.csl == queries.CRITICAL_EVENTS.text
    assert sent.database == "powerwatch"
    assert sent.parameters == {
        "fromTime": "datetime(2026-11-25T17:00:00.0000000Z)",
        "toTime": "datetime(2026-11-25T18:00:00.0000000Z)",
        "deviceId": "drv-01",
        "maxRows": "3",
        "afterTime": "datetime(null)",
        "afterReadingId": "",
    }
    assert sent.options["request_readonly"] is True
    assert sent.options["truncationmaxrecords"] == 10_000
    assert sent.options["servertimeout"] == "0:00:10"
    assert "query_results_cache_max_age" not in sent.options  # ADX's results cache: opt-in
    request_id = sent.headers["x-ms-client-request-id"]
    assert request_id.startswith("PowerwatchApi.CriticalEvents;req-123;")
    assert sent.headers["x-ms-app"] == "powerwatch-api"


def test_a_results_cache_age_is_sent_when_configured(endpoint: KustoRestEndpoint) -> None:
    store = kusto_store(endpoint, results_cache_max_age_s=90)
    run(store, queries.CRITICAL_EVENTS, EVENTS_PARAMS)
    run(store, queries.CRITICAL_EVENTS, EVENTS_PARAMS)
    first, second = endpoint.requests
    # What ADX keys its cache on is identical in both calls; the request ids differ.
    assert first.options["query_results_cache_max_age"] == "0:01:30"
    assert (first.csl, first.parameters, first.options) == (
        second.csl,
        second.parameters,
        second.options,
    )
    assert first.headers["x-ms-client-request-id"] != second.headers["x-ms-client-request-id"]


def test_typed_results_are_parsed_by_the_client(endpoint: KustoRestEndpoint) -> None:
    rows = run(
        kusto_store(endpoint),
        queries.POWER_INCIDENTS,
        {"fromTime": NOW - timedelta(hours=1), "toTime": NOW, "deviceId": "drv-01", "maxRows": 5},
    )
    longest = max(rows, key=lambda r: r["Readings"])
    assert longest["Duration"] == timedelta(seconds=9)
    assert longest["StartTime"].tzinfo is not None
    assert longest["Readings"] == 10


def test_transient_failures_are_retried_with_fresh_request_ids(endpoint: KustoRestEndpoint) -> None:
    endpoint.fail_next(503, 2)
    rows = run(kusto_store(endpoint, max_attempts=3), queries.PING, {})
    assert rows == [{"Ready": 1}]
    # The two failed attempts are not recorded as answered queries; the third is.
    assert len(endpoint.requests) == 1


def test_throttling_that_persists_becomes_unavailable(endpoint: KustoRestEndpoint) -> None:
    endpoint.fail_next(429, 5)
    with pytest.raises(StoreUnavailableError):
        run(kusto_store(endpoint, max_attempts=2), queries.PING, {})
    assert endpoint.faults.remaining == 3  # exactly two attempts were made


def test_a_rejected_query_is_not_retried(endpoint: KustoRestEndpoint) -> None:
    broken = queries.StoredQuery(
        name="Broken", text="NoSuchTable | take 1", parameters=(), columns=("X",)
    )
    with pytest.raises(StoreQueryError):
        run(kusto_store(endpoint, max_attempts=3), broken, {})
    assert len(endpoint.requests) == 1


def test_unreachable_cluster_is_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = StoreSettings(
        cluster_url=f"http://127.0.0.1:{port}",
        database="powerwatch",
        kusto_auth="none",
        max_attempts=2,
    )
    with pytest.raises(StoreUnavailableError):
        run(KustoStore(settings, max_result_rows=10, backoff_base_s=0.01), queries.PING, {})


def test_parameters_must_match_the_declaration(endpoint: KustoRestEndpoint) -> None:
    with pytest.raises(StoreQueryError, match="do not match"):
        run(kusto_store(endpoint), queries.CRITICAL_EVENTS, {"fromTime": NOW})
    assert endpoint.requests == []


def test_a_result_over_the_cap_is_refused_not_cut(endpoint: KustoRestEndpoint) -> None:
    # ADX answers a result over `truncationmaxrecords` with 200, the first rows and a
    # partial query failure in the stream; the client raises KustoMultiApiError while it
    # parses the rows, so the store must name the cap instead of returning a cut list.
    settings = StoreSettings(
        cluster_url=endpoint.url,
        database="powerwatch",
        kusto_auth="none",
        request_timeout_s=10,
        max_attempts=3,
    )
    capped = KustoStore(settings, max_result_rows=2, backoff_base_s=0.01)
    with pytest.raises(StoreQueryError, match=r"more than 2 rows \(the result cap\)") as caught:
        run(capped, queries.CRITICAL_EVENTS, {**EVENTS_PARAMS, "maxRows": 5})
    assert type(caught.value.__cause__).__name__ == "KustoMultiApiError"
    assert len(endpoint.requests) == 1  # permanent: not retried
    # At the cap exactly, nothing is cut and the rows come back.
    exact = KustoStore(settings, max_result_rows=3, backoff_base_s=0.01)
    assert len(run(exact, queries.CRITICAL_EVENTS, EVENTS_PARAMS)) == 3
