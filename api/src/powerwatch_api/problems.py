"""RFC 9457 problem details: every error leaves the API as application/problem+json.

Handlers turn Litestar's HTTP exceptions, the API's own validation errors and store
failures into problems with a clear message; anything unexpected becomes a generic
500 whose details go to the log (with the request id), never to the client.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.types import ExceptionHandlersMap

from powerwatch_api.stores.base import StoreQueryError, StoreUnavailableError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://powerwatch.dev/problems/"

log = structlog.get_logger("powerwatch_api.errors")


class FieldError(msgspec.Struct, kw_only=True):
    """One rejected input: where it was and why."""

    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, plus the request id to quote to support."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class InvalidParametersError(Exception):
    """Input that passed type checks but breaks a rule (window, order, cursor)."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


def invalid(field: str, message: str) -> InvalidParametersError:
    return InvalidParametersError([FieldError(field=field, message=message)])


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    kind: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    request_id = request.scope.get("state", {}).get("request_id")
    body = Problem(
        type=PROBLEM_BASE + kind if kind != "about:blank" else kind,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=request_id,
        errors=errors,
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


#: Python names of parameters whose wire name is different.
_WIRE_NAMES = {"from_": "from", "bin_size": "bin"}


def _validation_errors(extra: Any) -> list[FieldError]:
    """Litestar's validation details, reduced to field + message (no internals)."""
    errors: list[FieldError] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                field = str(item.get("key") or item.get("source") or "request")
                field = _WIRE_NAMES.get(field, field)
                errors.append(FieldError(field=field, message=str(item.get("message", "invalid"))))
    return errors


def handle_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Problem]:
    errors = _validation_errors(exc.extra)
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request parameters"
    return problem_response(request, 400, "invalid-parameters", detail, errors=errors or None)


def handle_invalid(
    request: Request[Any, Any, Any], exc: InvalidParametersError
) -> Response[Problem]:
    return problem_response(request, 400, "invalid-parameters", str(exc), errors=exc.errors)


def handle_unauthorized(
    request: Request[Any, Any, Any], exc: NotAuthorizedException
) -> Response[Problem]:
    # RFC 6750: say which scheme is expected and, for a bad token, that it was invalid.
    challenge = 'Bearer error="invalid_token"' if "token" in exc.detail.lower() else "Bearer"
    return problem_response(
        request, 401, "unauthorized", exc.detail, headers={"WWW-Authenticate": challenge}
    )


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        log.error("http_error", status=status, detail=exc.detail)
        return problem_response(request, status, "about:blank", HTTPStatus(status).phrase)
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, status, "about:blank", exc.detail, headers=headers)


def handle_store_unavailable(
    request: Request[Any, Any, Any], exc: StoreUnavailableError
) -> Response[Problem]:
    log.warning("store_unavailable", error=str(exc))
    return problem_response(
        request,
        503,
        "store-unavailable",
        "the event store is temporarily unavailable; retry later",
        headers={"Retry-After": "5"},
    )


def handle_store_failed(request: Request[Any, Any, Any], exc: StoreQueryError) -> Response[Problem]:
    log.error("store_query_failed", error=str(exc))
    return problem_response(request, 502, "store-failed", "the event store could not answer")


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # The traceback goes to the log, keyed by the request id; the client gets neither.
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return problem_response(request, 500, "about:blank", "internal error; quote the request id")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: handle_validation,
    InvalidParametersError: handle_invalid,
    NotAuthorizedException: handle_unauthorized,
    HTTPException: handle_http,
    StoreUnavailableError: handle_store_unavailable,
    StoreQueryError: handle_store_failed,
    Exception: handle_unexpected,
}
