"""The request-head limit, enforced by the app itself.

uvicorn's `h11_max_incomplete_event_size` only bounds a head that is still incomplete
after a read: a 64 KiB header that arrives in one read passes it (found by
bench/security_probes.py). So the app refuses any request whose headers together exceed
the same limit, with 431 before authentication or a query runs.
"""

from __future__ import annotations

from typing import Final

from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

MAX_HEADER_BYTES: Final = 16 * 1024  # also uvicorn's h11_max_incomplete_event_size


class HeaderLimitMiddleware(ASGIMiddleware):
    """431 for a request whose header names and values exceed MAX_HEADER_BYTES."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        size = sum(len(name) + len(value) for name, value in scope.get("headers", ()))
        if size > MAX_HEADER_BYTES:
            raise HTTPException(
                status_code=431,
                detail=f"request headers are {size} bytes; at most {MAX_HEADER_BYTES} are read",
            )
        await next_app(scope, receive, send)
