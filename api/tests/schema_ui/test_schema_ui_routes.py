"""The OpenAPI UI's page and files come from the API under a strict CSP, and no page the
API serves refers to another origin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.schema_ui import ASSETS, SCHEMA_CSP, SWAGGER_UI_DIR
from powerwatch_api.web import STATIC_DIR


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def test_the_ui_page_loads_only_its_own_files(client: TestClient[Litestar]) -> None:
    page = client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers.get_list("content-security-policy") == [SCHEMA_CSP.decode()]
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "init.js"):
        assert f"/schema/assets/{name}" in page.text
    assert "<script>" not in page.text  # nothing inline: the CSP would refuse it
    assert 'data-spec-url="/schema/openapi.json"' in page.text


def test_the_policy_allows_this_origin_only() -> None:
    policy = SCHEMA_CSP.decode()
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src"):
        assert directives[directive] == "'self'"
    assert directives["img-src"] == "'self' data:"  # Swagger UI's CSS icons are data: URIs
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert "http" not in policy


def test_the_files_are_the_locked_packages_own(client: TestClient[Litestar]) -> None:
    for name, (path, media_type) in ASSETS.items():
        response = client.get(f"/schema/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].split(";")[0] == media_type
        assert response.headers["content-security-policy"] == SCHEMA_CSP.decode()
        assert response.content == path.read_bytes()
    bundle = (SWAGGER_UI_DIR / "swagger-ui-bundle.js").read_text()
    assert "SwaggerUIBundle" in bundle
    assert SWAGGER_UI_DIR.name.startswith("swagger-ui-5.")


@pytest.mark.parametrize(
    "name",
    # The package's demo page (it loads the public Petstore), its initializer, source maps,
    # a path outside the folder.
    ["index.html", "swagger-initializer.js", "swagger-ui-bundle.js.map", "..%2F__init__.py"],
)
def test_only_the_listed_files_are_served(client: TestClient[Litestar], name: str) -> None:
    assert client.get(f"/schema/assets/{name}").status_code == 404


def test_there_is_no_oauth2_redirect_page(client: TestClient[Litestar]) -> None:
    # Litestar's version is an inline script; no security scheme here uses OAuth2 flows.
    assert client.get("/schema/oauth2-redirect.html").status_code == 404


#: Sample values for every path parameter of a GET route, so each route is fetched.
PATH_SAMPLES: dict[str, list[str]] = {
    "device_id": ["drv-01"],
    "file_path": sorted(p.name for p in STATIC_DIR.iterdir()),
    "file_name": sorted(ASSETS),
    "path": ["no-such-page"],
}
_PARAM = re.compile(r"\{(\w+):\w+\}")
#: A reference that makes a browser load something: an attribute, a CSS url() or @import.
_REMOTE_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|action|formaction|poster|srcset|data)\s*=\s*["']?\s*"""
    r"""|url\(\s*["']?|@import\s+["']?)(?:[a-z][a-z0-9+.-]*:)?//""",
    re.IGNORECASE,
)


def every_get_target(app: Litestar) -> Iterator[str]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "GET" not in route.methods:
            continue
        params = _PARAM.findall(route.path)
        missing = [p for p in params if p not in PATH_SAMPLES]
        assert not missing, f"add samples for {missing} of {route.path} to PATH_SAMPLES"
        if len(params) > 1:
            raise AssertionError(f"{route.path}: one parameter per route is assumed here")
        if not params:
            yield route.path
            continue
        for value in PATH_SAMPLES[params[0]]:
            yield _PARAM.sub(value, route.path)


def test_no_page_of_the_api_refers_to_another_origin(client: TestClient[Litestar]) -> None:
    checked: dict[str, str] = {}
    for target in every_get_target(client.app):
        response = client.get(target)
        kind = response.headers.get("content-type", "").split(";")[0]
        if kind not in ("text/html", "text/css"):
            continue
        checked[target] = kind
        found = _REMOTE_REFERENCE.findall(response.text)
        assert not found, f"{target} refers to another origin: {found}"
    # The walk reached the pages that matter, so the empty findings above mean something.
    assert checked["/schema"] == "text/html"
    assert checked["/schema/no-such-page"] == "text/html"
    assert checked["/live/index.html"] == "text/html"
    assert checked["/schema/assets/swagger-ui.css"] == "text/css"
    assert checked["/live/app.css"] == "text/css"


def test_the_reference_check_finds_a_remote_reference() -> None:
    stock = '<link href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.18.2/swagger-ui.css">'
    assert _REMOTE_REFERENCE.findall(stock)
    assert _REMOTE_REFERENCE.findall("<script src=//cdn.example/x.js></script>")
    assert _REMOTE_REFERENCE.findall("a { background: url( 'https://x.example/i.png') }")
    assert not _REMOTE_REFERENCE.findall('<svg xmlns="http://www.w3.org/2000/svg">')


def test_own_scripts_name_no_other_origin() -> None:
    init = Path(ASSETS["init.js"][0]).read_text()
    assert "http" not in init
    assert "validatorUrl: null" in init
