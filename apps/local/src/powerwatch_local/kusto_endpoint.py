"""A local HTTP endpoint that speaks the Kusto REST v2 query protocol over LocalKusto.

It lets the real azure-kusto-data client run against the embedded engine: the client
serializes ClientRequestProperties into the body's ``properties`` as a JSON *string*
(duckdb-kql's own ``serve`` ignores that form), so this endpoint parses it, converts
each parameter from its KQL literal text by the type the query declares (as the
service does), runs the query and answers with the v2 frames DataSetHeader,
DataTable(s) and DataSetCompletion. It records every request so tests can check what
the client sent, and can be told to fail the next requests to exercise retries.

Loopback only, no authentication: it exists for tests and local development.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import duckdb_kql
from duckdb_kql.params import parse_timespan
from duckdb_kql.server import RestColumn, Result, error_response, v2_response
from powerwatch_kusto import LocalKusto

_WRAPPED = re.compile(
    r"^\s*(datetime|date|timespan|time)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL
)


class ParameterError(ValueError):
    """A parameter value that is not a literal of its declared type."""


def _parse_datetime(text: str) -> datetime | None:
    match = _WRAPPED.match(text)
    inner = match.group(2).strip() if match else text.strip()
    if inner.lower() == "null":
        return None
    if inner.endswith(("Z", "z")):
        inner = inner[:-1] + "+00:00"
    # Kusto ticks are 100 ns; Python keeps microseconds.
    inner = re.sub(r"(\.\d{6})\d+", r"\1", inner)
    parsed = datetime.fromisoformat(inner)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_timespan(text: str) -> timedelta | None:
    match = _WRAPPED.match(text)
    inner = match.group(2).strip() if match else text.strip()
    if inner.lower() == "null":
        return None
    inner = re.sub(r"(\.\d{6})\d+$", r"\1", inner)
    span = parse_timespan(inner)
    if span is None:
        raise ParameterError(f"not a timespan literal: {text!r}")
    return span


def parse_parameter(kind: str, text: Any) -> Any:
    """A parameter's text as the value of its declared KQL type (the service's job)."""
    if not isinstance(text, str):
        raise ParameterError("parameter values travel as strings")
    try:
        if kind == "string":
            return text
        if kind in ("long", "int"):
            return int(text)
        if kind == "real":
            return float(text)
        if kind == "bool":
            return {"true": True, "false": False}[text.strip().lower()]
        if kind == "datetime":
            return _parse_datetime(text)
        if kind == "timespan":
            return _parse_timespan(text)
    except (ValueError, KeyError) as exc:
        raise ParameterError(f"{text!r} is not a {kind} literal") from exc
    raise ParameterError(f"parameter type {kind} is not supported here")


def _kql_type(values: list[Any]) -> str:
    """The column type, from its first non-null value (the engine returns typed values)."""
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "long"
        if isinstance(value, float):
            return "real"
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, timedelta):
            return "timespan"
        return "string"
    return "string"


@dataclass
class RecordedRequest:
    csl: str
    database: str | None
    options: dict[str, Any]
    parameters: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Faults:
    status: int = 0
    remaining: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> int:
        with self.lock:
            if self.remaining <= 0:
                return 0
            self.remaining -= 1
            return self.status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def endpoint(self) -> KustoRestEndpoint:
        return cast("KustoRestEndpoint", self.server)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the recorded requests instead."""

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/") != "/v2/rest/query":
            self._send(404, error_response(f"no route for {self.path}"))
            return
        length = int(self.headers.get("Content-Length", "0"))
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
            properties = request.get("properties") or {}
            if isinstance(properties, str):  # how azure-kusto-data sends them
                properties = json.loads(properties)
        except (ValueError, AttributeError) as exc:
            self._send(400, error_response(f"malformed request: {exc}"))
            return
        fault = self.endpoint.faults.take()
        if fault:
            payload = error_response("injected transient failure", code="ServiceUnavailable")
            payload["error"]["@permanent"] = False
            self._send(fault, payload)
            return
        self._answer(request, properties)

    def _answer(self, request: dict[str, Any], properties: dict[str, Any]) -> None:
        endpoint = self.endpoint
        csl = request.get("csl") or ""
        database = request.get("db")
        raw_parameters = properties.get("Parameters") or {}
        options = properties.get("Options") or {}
        endpoint.requests.append(
            RecordedRequest(
                csl=csl,
                database=database,
                options=dict(options),
                parameters=dict(raw_parameters),
                headers={k.lower(): v for k, v in self.headers.items()},
            )
        )
        if database != endpoint.database:
            self._send(400, error_response(f"database {database!r} does not exist"))
            return
        try:
            declared = {p.name: p.type for p in duckdb_kql.query_parameters(csl)}
            unknown = sorted(set(raw_parameters) - set(declared))
            if unknown:
                raise ParameterError(f"parameters not declared by the query: {unknown}")
            values = {
                name: parse_parameter(declared[name], raw_parameters[name])
                for name in raw_parameters
            }
            result = endpoint.engine.query(csl, values)
        except Exception as exc:
            self._send(400, error_response(str(exc)))
            return
        rows = [tuple(row) for row in result.rows]
        option = options.get("truncationmaxrecords")
        cap = option if isinstance(option, int) else None
        truncated = cap is not None and len(rows) > cap
        if cap is not None and truncated:
            rows = rows[:cap]
        columns = [
            RestColumn.derived(name, _kql_type([row[i] for row in rows]))
            for i, name in enumerate(result.columns)
        ]
        request_id = self.headers.get("x-ms-client-request-id", "")
        frames = v2_response(Result(columns, rows), request_id)
        if cap is not None and truncated:
            frames = truncation_failure(frames, cap)
        self._send(200, frames)


def truncation_error(cap: int) -> dict[str, Any]:
    """The OneApiError of a result cut at `truncationmaxrecords` (E_QUERY_RESULT_SET_TOO_LARGE)."""
    return {
        "code": "LimitsExceeded",
        "message": "Request is invalid and cannot be executed.",
        "@type": "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException",
        "@message": (
            f"Query result set has exceeded the internal record count limit {cap} "
            "(E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)"
        ),
        "@permanent": True,
    }


def truncation_failure(frames: list[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    """The frames of a partial query failure by result truncation, as the service sends them.

    The status line is already 200 when the limit is hit, so the service reports it in the
    stream: with the default placement ("InData") "a JSON property bag holding the failure
    information appears as part of the result data, where a JSON array is normally
    expected" (https://learn.microsoft.com/kusto/concepts/partial-query-failures), and the
    DataSetCompletion frame says HasErrors with the same OneApiErrors
    (https://learn.microsoft.com/kusto/concepts/query-limits, "Limit on result set size").
    """
    failure = {"OneApiErrors": [{"error": truncation_error(cap)}]}
    marked = []
    for frame in frames:
        if frame.get("TableKind") == "PrimaryResult":
            frame = {**frame, "Rows": [*frame["Rows"], failure]}
        elif frame.get("FrameType") == "DataSetCompletion":
            frame = {**frame, "HasErrors": True, **failure}
        marked.append(frame)
    return marked


class KustoRestEndpoint(ThreadingHTTPServer):
    """``with KustoRestEndpoint(engine, "powerwatch") as ep:`` then connect to ``ep.url``."""

    daemon_threads = True

    def __init__(self, engine: LocalKusto, database: str, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.engine = engine
        self.database = database
        self.requests: list[RecordedRequest] = []
        self.faults = _Faults()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def fail_next(self, status: int, count: int) -> None:
        """Answer the next *count* queries with *status* and a transient Kusto error."""
        with self.faults.lock:
            self.faults.status, self.faults.remaining = status, count

    def start(self) -> KustoRestEndpoint:
        self._thread = threading.Thread(target=self.serve_forever, name="kusto-rest", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KustoRestEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
