"""The live page is served by the API: static files, its own CSP, the `/` redirect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.web import PAGE_CSP, STATIC_DIR


@pytest.fixture
def client() -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def test_the_page_and_its_assets_are_served_with_the_page_policy(
    client: TestClient[Litestar],
) -> None:
    page = client.get("/live/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="app.js" defer></script>' in page.text
    assert page.headers.get_list("content-security-policy") == [PAGE_CSP.decode()]
    script = client.get("/live/app.js")
    assert script.status_code == 200
    assert script.text == (STATIC_DIR / "app.js").read_text()
    assert client.get("/live/app.css").status_code == 200


def test_the_api_keeps_its_strict_policy(client: TestClient[Litestar]) -> None:
    response = client.get("/api/v1/devices")
    assert response.status_code == 200
    assert response.headers.get_list("content-security-policy") == [
        "default-src 'none'; frame-ancestors 'none'"
    ]


def test_the_bare_address_leads_to_the_page(client: TestClient[Litestar]) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["location"] == "/live/"


def test_the_page_uses_only_the_public_api_and_no_remote_code() -> None:
    script = (STATIC_DIR / "app.js").read_text()
    html = (STATIC_DIR / "index.html").read_text()
    assert 'const API = "/api/v1";' in script
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html + script
    assert "innerHTML" not in script  # API values are inserted as text only


def test_the_page_is_not_in_the_openapi_document(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/live")]
