"""API behaviour, run against BOTH stores (the `client` fixture is parametrized):
LocalStore, and KustoStore over real HTTP to the Kusto REST v2 endpoint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from .conftest import EVENT_COUNT, NOW, iso

WINDOW = {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW)}


def get_ok(client: TestClient[Any], url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_events_are_newest_first_with_every_field(client: TestClient[Any]) -> None:
    page = get_ok(client, "/api/v1/events", **WINDOW, limit=100)
    items = page["items"]
    assert len(items) == EVENT_COUNT
    assert page["next_cursor"] is None
    keys = [(e["ts"], e["reading_id"]) for e in items]
    assert keys == sorted(keys, reverse=True)
    newest = items[0]
    assert newest == {
        "device_id": "drv-02",
        "ts": "2026-11-25T17:59:59Z",
        "reading_id": "drv-02-00179",
        "voltage": 231.0,
        "current": 25.0,
        "power_w": 5775.0,
        "threshold_w": 5000.0,
        "excess_w": 775.0,
        "seq": 179,
    }
    # Exactly 5000 W is not over the threshold.
    assert "drv-01-00250" not in {e["reading_id"] for e in items}


def test_cursor_pages_cover_everything_once(client: TestClient[Any]) -> None:
    seen: list[str] = []
    page = get_ok(client, "/api/v1/events", **WINDOW, limit=4)
    pages = 1
    while True:
        assert len(page["items"]) <= 4
        seen.extend(e["reading_id"] for e in page["items"])
        if page["next_cursor"] is None:
            break
        # The cursor alone carries the filter and window.
        page = get_ok(client, "/api/v1/events", cursor=page["next_cursor"], limit=4)
        pages += 1
    assert pages == 5
    assert len(seen) == len(set(seen)) == EVENT_COUNT
    full = get_ok(client, "/api/v1/events", **WINDOW, limit=100)
    assert seen == [e["reading_id"] for e in full["items"]]


def test_device_filter_and_cursor_consistency(client: TestClient[Any]) -> None:
    page = get_ok(client, "/api/v1/events", **WINDOW, device="drv-01", limit=10)
    assert {e["device_id"] for e in page["items"]} == {"drv-01"}
    assert page["next_cursor"]
    rest = get_ok(client, "/api/v1/events", cursor=page["next_cursor"], device="drv-01")
    assert len(rest["items"]) == 5
    assert rest["next_cursor"] is None
    mismatch = client.get(
        "/api/v1/events", params={"cursor": page["next_cursor"], "device": "drv-02"}
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["field"] == "cursor"


def test_incidents_group_consecutive_exceedances(client: TestClient[Any]) -> None:
    page = get_ok(client, "/api/v1/incidents", **WINDOW)
    assert page["truncated"] is False
    by_device: dict[str, list[dict[str, Any]]] = {}
    for incident in page["items"]:
        by_device.setdefault(incident["device_id"], []).append(incident)
    assert sorted(by_device) == ["drv-01", "drv-02"]
    long, short = sorted(by_device["drv-01"], key=lambda i: -i["readings"])
    assert long["readings"] == 10
    assert long["peak_power_w"] == 6900.0
    assert long["start"] == "2026-11-25T17:51:40Z"
    assert long["end"] == "2026-11-25T17:51:49Z"
    assert long["duration_s"] == 9.0
    assert long["energy_over_wh"] == pytest.approx(10 * 1900 / 3600)
    assert short["readings"] == 5
    assert short["peak_power_w"] == pytest.approx(5520.0)
    limited = get_ok(client, "/api/v1/incidents", **WINDOW, limit=1)
    assert len(limited["items"]) == 1
    assert limited["truncated"] is True


@pytest.mark.parametrize(("bin_size", "points"), [("1m", 5), ("5m", 1), ("1h", 1), ("1d", 1)])
def test_power_series_bins(client: TestClient[Any], bin_size: str, points: int) -> None:
    series = get_ok(client, "/api/v1/devices/drv-01/power", **WINDOW, bin=bin_size)
    assert series["device_id"] == "drv-01"
    assert series["bin"] == bin_size
    assert len(series["points"]) == points
    assert sum(p["readings"] for p in series["points"]) == 300
    assert max(p["max_power_w"] for p in series["points"]) == 6900.0
    assert min(p["min_power_w"] for p in series["points"]) == pytest.approx(920.0)
    starts = [p["bin_start"] for p in series["points"]]
    assert starts == sorted(starts)


def test_power_series_bins_are_whole(client: TestClient[Any]) -> None:
    # drv-01 has one reading per second from 17:50:00 to 17:54:59. A window starting and
    # ending inside minutes is widened to whole minutes, and the answer says so.
    series = get_ok(
        client,
        "/api/v1/devices/drv-01/power",
        **{"from": "2026-11-25T17:50:30Z", "to": "2026-11-25T17:52:10Z"},
        bin="1m",
    )
    assert (series["start"], series["end"]) == ("2026-11-25T17:50:00Z", "2026-11-25T17:53:00Z")
    assert [(p["bin_start"], p["readings"]) for p in series["points"]] == [
        ("2026-11-25T17:50:00Z", 60),
        ("2026-11-25T17:51:00Z", 60),
        ("2026-11-25T17:52:00Z", 60),
    ]


def test_devices_report_status(client: TestClient[Any]) -> None:
    devices = get_ok(client, "/api/v1/devices")["items"]
    assert [(d["device_id"], d["status"]) for d in devices] == [
        ("drv-01", "silent"),
        ("drv-02", "critical"),
        ("plant.a:b_c-1", "normal"),
    ]
    assert devices[1]["last_reading_at"] == "2026-11-25T17:59:59Z"
    assert devices[1]["last_power_w"] == 5775.0


def test_liveness_and_readiness(client: TestClient[Any], store_kind: str) -> None:
    assert get_ok(client, "/healthz") == {"status": "ok"}
    assert get_ok(client, "/readyz") == {"status": "ready", "store": store_kind}


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/events", {"device": "bad id"}, "device"),
        ("/api/v1/events", {"from": "2026-11-25T18:00:00", "to": iso(NOW)}, "from"),
        ("/api/v1/events", {"from": "2026-11-25T18:00:00+02:00", "to": iso(NOW)}, "from"),
        ("/api/v1/events", {"from": iso(NOW), "to": iso(NOW - timedelta(hours=1))}, "from"),
        ("/api/v1/events", {"from": iso(NOW - timedelta(days=40)), "to": iso(NOW)}, "to"),
        ("/api/v1/events", {"from": "yesterday"}, "from"),
        ("/api/v1/events", {"limit": "0"}, "limit"),
        ("/api/v1/events", {"limit": "5000"}, "limit"),
        ("/api/v1/events", {"cursor": "abc"}, "cursor"),
        ("/api/v1/incidents", {"device": "-x"}, "device"),
        ("/api/v1/devices/drv-01/power", {"bin": "2m"}, "bin"),
        (
            "/api/v1/devices/drv-01/power",
            {"bin": "1m", "from": iso(NOW - timedelta(days=30)), "to": iso(NOW)},
            "bin",
        ),
        ("/api/v1/devices/bad%20id/power", {}, "device_id"),
    ],
)
def test_invalid_parameters_are_problem_details(
    client: TestClient[Any], url: str, params: dict[str, str], field: str
) -> None:
    response = client.get(url, params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert body["type"].endswith("/invalid-parameters")
    assert body["instance"].startswith("/api/v1/")
    assert body["request_id"] == response.headers["x-request-id"]
    assert field in {e["field"] for e in body["errors"]}, body
    assert "Traceback" not in response.text
    assert "litestar" not in response.text.lower()


def test_unknown_route_is_a_problem_too(client: TestClient[Any]) -> None:
    response = client.get("/api/v2/events")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
