"""``python -m powerwatch_api``: serve the API with uvicorn, configured from the environment."""

from __future__ import annotations

import sys

import uvicorn
from litestar import Litestar

from powerwatch_api.app import create_app
from powerwatch_api.server import UVICORN_OPTIONS, tune_process
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
    """Run *app* with the server options the API is deployed with."""
    tune_process(settings.server)
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        **UVICORN_OPTIONS,  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    sys.exit(main())
