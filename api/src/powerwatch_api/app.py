"""The app factory: create_app(settings) wires settings, store, auth and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

from powerwatch_api.auth import auth_middleware, requires_reader
from powerwatch_api.controllers.health import HealthController
from powerwatch_api.controllers.readings import ReadingsController
from powerwatch_api.limits import HeaderLimitMiddleware
from powerwatch_api.observability import RequestContextMiddleware, configure_logging
from powerwatch_api.problems import EXCEPTION_HANDLERS
from powerwatch_api.schema_ui import SCHEMA_PATH, SelfHostedSwagger
from powerwatch_api.services.devices import DevicesService
from powerwatch_api.services.events import EventsService
from powerwatch_api.services.power import PowerService
from powerwatch_api.settings import Settings
from powerwatch_api.stores.base import Store
from powerwatch_api.web import live_page_routes

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

API_VERSION = "1.0.0"


def build_store(settings: Settings) -> Store:
    """KustoStore when a cluster URL is configured, else the embedded LocalStore."""
    if settings.store.uses_kusto:
        from powerwatch_api.stores.kusto import KustoStore

        # One more row than the largest page: the "is there a next page" probe.
        return KustoStore(
            settings.store, max_result_rows=max(settings.limits.max_limit + 1, 100_000)
        )
    from powerwatch_api.stores.local import LocalStore

    return LocalStore(
        database=settings.store.local_database,
        kusto_root=settings.store.kusto_root,
    )


def _openapi(settings: Settings) -> OpenAPIConfig:
    components = Components()
    security: list[SecurityRequirement] | None = None
    if settings.auth.mode == "entra":
        components = Components(
            security_schemes={
                "EntraID": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description=f"Entra ID access token with app role {settings.auth.read_role}",
                )
            }
        )
        security = [{"EntraID": []}]
    elif settings.auth.mode == "api-key":
        components = Components(
            security_schemes={
                "ApiKey": SecurityScheme(
                    type="apiKey", name="X-API-Key", security_scheme_in="header"
                )
            }
        )
        security = [{"ApiKey": []}]
    return OpenAPIConfig(
        title="Powerwatch events API",
        version=API_VERSION,
        description=(
            "Critical electrical power events detected from Driver readings. Errors are "
            "RFC 9457 problem details (application/problem+json)."
        ),
        path=SCHEMA_PATH,
        # Swagger UI from the API's own files (no CDN): powerwatch_api.schema_ui.
        render_plugins=[SelfHostedSwagger(path="/"), JsonRenderPlugin(path="/openapi.json")],
        components=components,
        security=security,
    )


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Litestar:
    """Build the API. *store* overrides the one settings describe (tests, local stack);
    *tracer_provider* turns tracing on with that provider (else settings.tracing decides).
    """
    settings = settings or Settings.from_env()
    configure_logging(settings.server.log_level)
    the_store = store or build_store(settings)
    plugins: list[Any] = []
    route_middleware: list[Any] = []
    owned_provider: TracerProvider | None = None
    if tracer_provider is not None or settings.tracing.enabled:
        # Imported only when on: the OpenTelemetry SDK stays out of the default path.
        from powerwatch_api import tracing

        provider = tracer_provider or tracing.otlp_tracer_provider(settings.tracing)
        owned_provider = None if tracer_provider else provider
        plugins.append(tracing.tracing_plugin(provider))
        route_middleware.append(DefineMiddleware(tracing.RouteSpanMiddleware))
        the_store = tracing.traced_store(the_store, provider)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Clients (the Kusto HTTP pool, the embedded engine) live exactly as long as the app.
        await the_store.open()
        try:
            yield
        finally:
            await the_store.close()
            if owned_provider is not None:
                # Flush buffered spans; shutdown blocks on the exporter, so off the loop.
                await anyio.to_thread.run_sync(owned_provider.shutdown)

    limits = settings.limits

    def events_service(state: State) -> EventsService:
        return EventsService(state.store, limits)

    def power_service(state: State) -> PowerService:
        return PowerService(state.store, limits)

    def devices_service(state: State) -> DevicesService:
        return DevicesService(state.store, limits)

    cors = (
        CORSConfig(
            allow_origins=list(settings.server.cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization", "X-API-Key", "X-Request-ID"],
        )
        if settings.server.cors_origins
        else None
    )
    # The read-role guard where there is a caller to check. With auth off it would be a
    # no-op that Litestar still runs per request (it copies the route handler per guard
    # call; bench/bench_api.py's profile).
    readings = Router(
        path="/",
        route_handlers=[ReadingsController],
        guards=[requires_reader] if settings.auth.mode != "none" else [],
    )
    middleware: list[Any] = [
        HeaderLimitMiddleware(),  # first: an oversized head is refused before anything runs
        *route_middleware,
        DefineMiddleware(RequestContextMiddleware),
        *auth_middleware(settings.auth),
    ]
    return Litestar(
        route_handlers=[HealthController, readings, *live_page_routes()],
        dependencies={
            "events_service": Provide(events_service, sync_to_thread=False),
            "power_service": Provide(power_service, sync_to_thread=False),
            "devices_service": Provide(devices_service, sync_to_thread=False),
        },
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=_openapi(settings),
        cors_config=cors,
        request_max_body_size=settings.server.max_body_bytes,
        lifespan=[lifespan],
        plugins=plugins,
        state=State({"store": the_store, "settings": settings}),
        debug=False,
        logging_config=None,
    )
