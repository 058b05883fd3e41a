"""``python -m powerwatch_api``: serve the API with uvicorn, configured from the environment."""

from __future__ import annotations

import gc
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


def freeze_startup_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    The app, its routes, OpenAPI schema and the imported modules live as long as the
    process; a full collection walks all of them and pauses every request in flight.
    Frozen, they are never walked (bench/bench_api.py: fewer and shorter latency spikes
    at 200 req/s; docs/benchmarks.md). Call once, just before serving.
    """
    gc.collect()
    gc.freeze()


def serve(app: Litestar, settings: Settings) -> None:
    """Run *app* with the server options the API is deployed with (bench/ uses it too)."""
    freeze_startup_heap()
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
