"""``python -m powerwatch_api``: serve the API with uvicorn, configured from the environment."""

from __future__ import annotations

import sys

import uvicorn
from litestar import Litestar

from powerwatch_api.app import create_app
from powerwatch_api.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    serve(create_app(settings), settings)
    return 0


def serve(app: Litestar, settings: Settings) -> None:
    """Run *app* with the server options the API is deployed with (bench/ uses it too)."""
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level="warning",
        access_log=False,  # the app writes structured access logs itself
        server_header=False,
        proxy_headers=False,
        h11_max_incomplete_event_size=16 * 1024,
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    sys.exit(main())
