"""The OpenAPI UI in a real browser (Debian's Chromium, driven by Playwright) with the
network limited to the API's own origin: every request to another origin is aborted and
counted. The page must list every operation of the OpenAPI document, run one call, and
need nothing from elsewhere. A control run of Litestar's stock Swagger plugin shows the
same harness catches a page that needs a CDN."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from litestar import Litestar, get
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from powerwatch_api import Settings, create_app
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto

CHROMIUM = "/usr/bin/chromium"
# As tests/e2e: no sandbox (root in a container), no background traffic of the browser's own.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Long enough for Swagger UI to render on a loaded 2-core machine; a page that needs a
#: CDN never renders, however long it waits.
RENDER_TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


@contextmanager
def serving(app: Litestar) -> Iterator[str]:
    """*app* behind a real uvicorn on a loopback socket; yields its origin."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
        time.sleep(0.05)
    try:
        yield origin
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@dataclass
class Visit:
    """What the browser did while showing /schema."""

    own_origin: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@contextmanager
def browse(origin: str) -> Iterator[tuple[Any, Visit]]:
    """A page whose requests reach *origin* only; the others are aborted and recorded."""
    from playwright.sync_api import sync_playwright

    visit = Visit()

    def only_own_origin(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == origin:
            visit.own_origin.append(url)
            route.continue_()
        else:
            visit.blocked.append(url)
            route.abort("blockedbyclient")

    with sync_playwright() as pw:
        # executable_path: Playwright never downloads a browser here.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_own_origin)
            page = context.new_page()
            # CSP violations and failed loads are reported as console errors.
            page.on("console", lambda m: m.type == "error" and visit.problems.append(m.text))
            page.on("pageerror", lambda e: visit.problems.append(str(e)))
            yield page, visit
        finally:
            browser.close()


def documented_operations(origin: str) -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path), from the API's OpenAPI document."""
    with urllib.request.urlopen(f"{origin}/schema/openapi.json", timeout=10) as response:
        document = json.load(response)
    return {
        operation["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_the_schema_ui_lists_every_operation_with_no_other_origin(engine: LocalKusto) -> None:
    app = create_app(Settings(), store=LocalStore(engine=engine))
    with serving(app) as origin, browse(origin) as (page, visit):
        expected = documented_operations(origin)
        response = page.goto(f"{origin}/schema")
        assert response is not None
        assert response.status == 200
        assert "script-src 'self';" in response.headers["content-security-policy"]
        page.wait_for_selector(".opblock", timeout=RENDER_TIMEOUT_MS)
        shown = page.locator(".opblock").evaluate_all(
            """blocks => blocks.map(b => [
                b.querySelector('.opblock-summary-operation-id').textContent.trim(),
                b.querySelector('.opblock-summary-method').textContent.trim(),
                b.querySelector('.opblock-summary-path').dataset.path,
            ])"""
        )
        assert {op_id: (method, path) for op_id, method, path in shown} == expected
        assert len(shown) == len(expected)
        assert page.locator(".info .title").first.text_content().startswith("Powerwatch events API")
        # "Try it out" calls the API from the page: the CSP's connect-src 'self' allows it.
        devices = page.locator(".opblock", has=page.locator("text=listDevices"))
        devices.locator(".opblock-summary").click()
        devices.locator("button.try-out__btn").click()
        devices.locator("button.execute").click()
        status = devices.locator(".live-responses-table tr.response .response-col_status").first
        status.wait_for(timeout=RENDER_TIMEOUT_MS)
        assert status.text_content().strip() == "200"
    assert visit.blocked == []
    # The count above means something only if the route saw the page's own requests.
    seen = {urlsplit(url).path for url in visit.own_origin}
    assert {
        "/schema",
        "/schema/assets/swagger-ui.css",
        "/schema/assets/swagger-ui-bundle.js",
        "/schema/assets/init.js",
        "/schema/openapi.json",
        "/api/v1/devices",
    } <= seen
    assert visit.problems == []


@get("/ping", sync_to_thread=False, operation_id="ping")
def ping() -> str:
    return "pong"


def test_control_the_stock_swagger_page_needs_a_cdn_and_stays_empty() -> None:
    """The harness is not vacuous: Litestar's default Swagger page (what /schema served
    before) reaches for the CDN, and with that blocked it renders no operation."""
    stock = Litestar(
        route_handlers=[ping],
        openapi_config=OpenAPIConfig(
            title="stock", version="1", render_plugins=[SwaggerRenderPlugin(path="/")]
        ),
    )
    with serving(stock) as origin, browse(origin) as (page, visit):
        page.goto(f"{origin}/schema", wait_until="load")
        assert page.locator(".opblock").count() == 0
    assert any(urlsplit(url).hostname == "cdn.jsdelivr.net" for url in visit.blocked)
