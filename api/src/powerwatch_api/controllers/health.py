"""Liveness (the process answers) and readiness (the store answers)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency

from powerwatch_api.controllers.common import PROBLEM_RESPONSES, request_id
from powerwatch_api.models import Health, Readiness
from powerwatch_api.services.devices import DevicesService


class HealthController(Controller):
    tags = ["health"]  # noqa: RUF012 - Litestar's class-level declaration

    @get("/healthz", operation_id="liveness", summary="Liveness: the process is up")
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get(
        "/readyz",
        operation_id="readiness",
        summary="Readiness: the event store answers a query",
        responses={503: PROBLEM_RESPONSES[503], 502: PROBLEM_RESPONSES[502]},
    )
    async def readyz(
        self, request: Request[Any, Any, Any], devices_service: NamedDependency[DevicesService]
    ) -> Readiness:
        await devices_service.ready(request_id=request_id(request))
        return Readiness(status="ready", store=devices_service.store_kind)
