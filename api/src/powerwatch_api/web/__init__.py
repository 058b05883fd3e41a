"""The live page: static HTML + vanilla JS, served by the API, reading only the public API.

No build step and no third-party script: `static/` is served as is under PAGE_PATH. The
page polls /api/v1 (devices, power series, events, incidents) and draws SVG charts.
Its Content-Security-Policy (PAGE_CSP, applied by the request middleware) allows only
its own script and styles and same-origin fetches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from litestar import Router, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

PAGE_PATH: Final = "/live"
STATIC_DIR: Final = Path(__file__).parent / "static"
#: Own files and same-origin API calls only: no inline script, no CDN, no framing.
PAGE_CSP: Final = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def is_page_path(path: str) -> bool:
    return path == PAGE_PATH or path.startswith(PAGE_PATH + "/")


@get("/", include_in_schema=False, sync_to_thread=False)
def root_to_page() -> Redirect:
    """A newcomer opening the bare address lands on the live page."""
    return Redirect(path=PAGE_PATH + "/")


def live_page_routes() -> list[Router | HTTPRouteHandler]:
    """Route handlers to add to the app: the static page and the `/` redirect."""
    page = create_static_files_router(
        path=PAGE_PATH,
        directories=[STATIC_DIR],
        html_mode=True,
        include_in_schema=False,
        name="live-page",
    )
    return [page, root_to_page]
