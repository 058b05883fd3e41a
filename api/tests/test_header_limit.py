"""An oversized request head is 431 (problem+json), before authentication runs."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.limits import MAX_HEADER_BYTES
from powerwatch_api.settings import AuthSettings
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto

KEY = "k3y-" + "x" * 40


def test_headers_over_the_limit_are_431_even_with_a_valid_key(engine: LocalKusto) -> None:
    settings = Settings(auth=AuthSettings(mode="api-key", api_key=KEY))
    with TestClient(create_app(settings, store=LocalStore(engine=engine))) as client:
        headers: dict[str, Any] = {"X-API-Key": KEY}
        assert client.get("/api/v1/devices", headers=headers).status_code == 200
        big = {**headers, "X-Padding": "p" * MAX_HEADER_BYTES}
        response = client.get("/api/v1/devices", headers=big)
        assert response.status_code == 431
        assert response.headers["content-type"] == "application/problem+json"
        assert "at most 16384" in response.json()["detail"]
        oversized_key = client.get("/api/v1/devices", headers={"X-API-Key": "x" * (64 << 10)})
        assert oversized_key.status_code == 431  # not 401: the head is not read that far
