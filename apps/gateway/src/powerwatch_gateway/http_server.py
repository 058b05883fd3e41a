"""A minimal HTTP/1.1 server for /healthz, /readyz and /metrics.

Three GET routes do not justify a web framework in the gateway's image; this
reads one bounded request head per connection and closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)

_MAX_HEAD = 8192
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"


Route = Callable[[], Response]


class HttpServer:
    def __init__(self, host: str, port: int, routes: dict[str, Route]) -> None:
        self._host = host
        self._port = port
        self._routes = routes
        self._server: asyncio.Server | None = None
        self.port = port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("http_listening", host=self._host, port=self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, path = _request_line(head)
            response = self._respond(method, path)
            writer.write(
                f"HTTP/1.1 {response.status} {_REASONS.get(response.status, '')}\r\n"
                f"Content-Type: {response.content_type}\r\n"
                f"Content-Length: {len(response.body)}\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n".encode()
            )
            if method != "HEAD":
                writer.write(response.body)
            await writer.drain()
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ConnectionError,
            ValueError,
        ):
            pass  # a broken or slow client: just close
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), timeout=1)

    def _respond(self, method: str, path: str) -> Response:
        route = self._routes.get(path.split("?", 1)[0])
        if route is None:
            return Response(404, b'{"error":"not found"}')
        if method not in ("GET", "HEAD"):
            return Response(405, b'{"error":"method not allowed"}')
        return route()


def _request_line(head: bytes) -> tuple[str, str]:
    if len(head) > _MAX_HEAD:
        raise ValueError("request head too large")
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    if len(parts) != 3:
        raise ValueError("bad request line")
    return parts[0], parts[1]
