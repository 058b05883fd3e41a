"""What every controller shares: documented error responses and per-request values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.openapi.datastructures import ResponseSpec

from powerwatch_api.problems import PROBLEM_MEDIA_TYPE, Problem


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem, description=description, media_type=PROBLEM_MEDIA_TYPE
    )


PROBLEM_RESPONSES: dict[int, ResponseSpec] = {
    400: _problem("Invalid parameters (RFC 9457 problem details)"),
    401: _problem("Missing or invalid credentials"),
    403: _problem("Authenticated but lacking the read role"),
    414: _problem("Request target too long"),
    500: _problem("Unexpected error; quote the request id"),
    502: _problem("The event store rejected the query"),
    503: _problem("The event store is temporarily unavailable"),
}


def request_id(request: Request[Any, Any, Any]) -> str:
    value = request.scope.get("state", {}).get("request_id")
    return str(value) if value else "-"


def utc_now() -> datetime:
    return datetime.now(UTC)
