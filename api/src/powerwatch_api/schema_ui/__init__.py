"""The OpenAPI UI at /schema: Swagger UI served by the API itself, under a strict CSP.

Swagger UI's files come from the hash-locked `swagger-ui-bundle-v2` wheel (the files of
npm's swagger-ui-dist, unchanged), so the page works with no network at all: no CDN, no
fonts, no validator badge. Litestar's own SwaggerRenderPlugin writes an inline start-up
script and links a CDN favicon; this page has neither. It loads only its own files, so
SCHEMA_CSP can forbid everything else (no inline script, no other origin).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Final

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

SCHEMA_PATH: Final = "/schema"
#: Where the UI's files are served, under SCHEMA_PATH.
ASSETS_PATH: Final = "/assets"
SWAGGER_UI_DIR: Final = Path(str(swagger_ui_path))
#: Own files and same-origin fetches only (the OpenAPI document, "Try it out" calls).
SCHEMA_CSP: Final = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: Every file the UI may load, by name: an allow-list, so the package's demo index.html
#: (which points at a public Petstore) and its source maps are never served.
ASSETS: Final[dict[str, tuple[Path, str]]] = {
    "swagger-ui.css": (SWAGGER_UI_DIR / "swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": (SWAGGER_UI_DIR / "swagger-ui-bundle.js", "text/javascript"),
    "favicon-32x32.png": (SWAGGER_UI_DIR / "favicon-32x32.png", "image/png"),
    "init.js": (Path(__file__).with_name("init.js"), "text/javascript"),
}
_ASSET_ROUTE: Final = "schema-ui-asset"


def is_schema_path(path: str) -> bool:
    return path == SCHEMA_PATH or path.startswith(SCHEMA_PATH + "/")


@get(ASSETS_PATH + "/{file_name:str}", name=_ASSET_ROUTE, include_in_schema=False)
async def schema_ui_asset(file_name: FromPath[str]) -> File:
    if file_name not in ASSETS:
        raise NotFoundException(detail=f"no UI file named {file_name!r}")
    path, media_type = ASSETS[file_name]
    return File(
        path=path, filename=file_name, media_type=media_type, content_disposition_type="inline"
    )


class SelfHostedSwagger(SwaggerRenderPlugin):
    """Swagger UI from this API's own files; the start-up code is init.js, not inline."""

    def __init__(self, path: str = "/") -> None:
        # Only the path: render() below writes the whole page, so the base class's script,
        # stylesheet and favicon settings are never read.
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        def asset(name: str) -> str:
            return html.escape(request.app.route_reverse(_ASSET_ROUTE, file_name=name))

        title = html.escape(str(openapi_schema["info"]["title"]))
        spec_url = html.escape(self.get_openapi_json_route(request))
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n'
            '<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            f'<link rel="icon" type="image/png" href="{asset("favicon-32x32.png")}">\n'
            f'<link rel="stylesheet" href="{asset("swagger-ui.css")}">\n'
            f'<script src="{asset("swagger-ui-bundle.js")}" defer></script>\n'
            f'<script src="{asset("init.js")}" defer></script>\n'
            "</head>\n<body>\n"
            f'<div id="swagger-ui" data-spec-url="{spec_url}"></div>\n'
            "</body>\n</html>\n"
        ).encode()

    def receive_router(self, router: Router) -> None:
        # The UI's files, instead of Litestar's OAuth2 redirect page: that page is an
        # inline script, and no security scheme of this API uses an OAuth2 flow.
        router.register(schema_ui_asset)
