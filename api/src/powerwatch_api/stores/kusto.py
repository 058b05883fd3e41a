"""KustoStore: Azure Data Explorer through the async azure-kusto-data client.

Stored functions are called with ``declare query_parameters`` and values set through
ClientRequestProperties.set_parameter. Each call carries a client request id that
names the API request it serves, a server timeout, a read-only flag and a result
size cap, and, when configured, the age of ADX query results cache entries it may
accept; transient failures (throttling, network, 5xx) are retried with jittered
backoff, everything else fails at once.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import structlog
from azure.kusto.data import ClientRequestProperties, KustoConnectionStringBuilder
from azure.kusto.data.aio import KustoClient
from azure.kusto.data.exceptions import (
    KustoApiError,
    KustoError,
    KustoMultiApiError,
    KustoNetworkError,
    KustoServiceError,
    KustoThrottlingError,
)
from powerwatch_api.queries import StoredQuery
from powerwatch_api.settings import StoreSettings
from powerwatch_api.stores.base import (
    ParamValue,
    Row,
    StoreQueryError,
    StoreUnavailableError,
    check_parameters,
    normalize_rows,
)
from powerwatch_api.stores.literals import kql_literal

log = structlog.get_logger("powerwatch_api.kusto")

#: HTTP statuses that say "try again", not "your request is wrong".
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
APPLICATION = "powerwatch-api"


#: What a result cut at `truncationmaxrecords` carries (query-limits: "Limit on result set
#: size"; partial-query-failures: the failure travels in the 200 answer's result stream).
_TRUNCATION_MARKERS = ("E_QUERY_RESULT_SET_TOO_LARGE", "LimitsExceeded")


def is_truncation(error: KustoError) -> bool:
    """A partial query failure because the result exceeded the row cap.

    The client raises it as KustoMultiApiError when it parses the failure bag that
    the service appends to the result rows, so a row count never sees the cut.
    """
    if not isinstance(error, KustoMultiApiError):
        return False
    return any(
        marker in f"{e.code} {e.type} {e.description}"
        for e in error.get_api_errors()
        for marker in _TRUNCATION_MARKERS
    )


def is_transient(error: KustoError) -> bool:
    """Throttling, network failures and 5xx are worth retrying; a 4xx never is."""
    if isinstance(error, KustoThrottlingError | KustoNetworkError):
        return True
    if isinstance(error, KustoApiError) and error.get_api_error().permanent:
        return False
    if isinstance(error, KustoServiceError):
        response: Any = error.get_raw_http_response()
        status = getattr(response, "status", None) or getattr(response, "status_code", None)
        return status in _TRANSIENT_STATUSES
    return False


class KustoStore:
    """The production store. One client (one HTTP connection pool) per process."""

    kind = "kusto"

    def __init__(
        self,
        settings: StoreSettings,
        *,
        max_result_rows: int,
        backoff_base_s: float = 0.25,
    ) -> None:
        self._settings = settings
        self._max_result_rows = max_result_rows
        self._backoff_base_s = backoff_base_s
        self._client: KustoClient | None = None
        self._credential: Any = None

    def _connection(self) -> KustoConnectionStringBuilder:
        url = self._settings.cluster_url
        if self._settings.kusto_auth == "none":
            # Only the loopback test endpoint (Settings refuses it for anything else).
            kcsb = KustoConnectionStringBuilder.with_no_authentication(url)
        else:
            from azure.identity.aio import DefaultAzureCredential

            # Managed identity in Azure, developer login elsewhere; no secret in config.
            self._credential = DefaultAzureCredential()
            kcsb = KustoConnectionStringBuilder.with_azure_token_credential(url, self._credential)
        kcsb.application_for_tracing = APPLICATION
        return kcsb

    async def open(self) -> None:
        # The aiohttp session inside the client must be created on the running loop.
        self._client = KustoClient(self._connection())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
        if self._credential is not None:
            await self._credential.close()
            self._credential = None

    def _properties(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], request_id: str
    ) -> ClientRequestProperties:
        properties = ClientRequestProperties()  # type: ignore[no-untyped-call]
        for name, kind in query.parameters:
            properties.set_parameter(name, kql_literal(kind, parameters[name]))
        properties.client_request_id = f"PowerwatchApi.{query.name};{request_id};{uuid.uuid4()}"
        properties.application = APPLICATION
        properties.set_option(
            ClientRequestProperties.request_timeout_option_name,
            timedelta(seconds=self._settings.request_timeout_s),
        )
        properties.set_option("request_readonly", True)
        # The service stops at this many rows instead of shipping an unbounded result.
        properties.set_option("truncationmaxrecords", self._max_result_rows)
        if self._settings.kusto_results_cache_max_age_s > 0:
            # Opt-in staleness for less cluster load: identical text and parameters (the
            # request id is not part of the key) may be answered from ADX's results cache.
            properties.set_option(
                "query_results_cache_max_age",
                timedelta(seconds=self._settings.kusto_results_cache_max_age_s),
            )
        return properties

    async def run(
        self, query: StoredQuery, parameters: Mapping[str, ParamValue], *, request_id: str
    ) -> list[Row]:
        check_parameters(query, parameters)
        if self._client is None:
            raise StoreUnavailableError("KustoStore is not open")
        attempts = self._settings.max_attempts
        for attempt in range(1, attempts + 1):
            properties = self._properties(query, parameters, request_id)
            try:
                async with asyncio.timeout(self._settings.request_timeout_s + 5):
                    response = await self._client.execute_query(
                        self._settings.database, query.text, properties
                    )
            except TimeoutError as error:
                # Not retried: the request's whole time budget is spent.
                raise StoreUnavailableError(f"{query.name}: timed out") from error
            except KustoError as error:
                if is_truncation(error):
                    # Permanent for these parameters: more rows match than the cap allows.
                    raise StoreQueryError(
                        f"{query.name}: more than {self._max_result_rows} rows (the result cap)"
                    ) from error
                transient = is_transient(error)
                log.warning(
                    "kusto_query_failed",
                    query=query.name,
                    client_request_id=properties.client_request_id,
                    attempt=attempt,
                    transient=transient,
                    error=type(error).__name__,
                )
                if not transient:
                    raise StoreQueryError(f"{query.name}: {type(error).__name__}") from error
                if attempt == attempts:
                    raise StoreUnavailableError(f"{query.name}: {type(error).__name__}") from error
                await asyncio.sleep(self._backoff(attempt))
                continue
            table = response.primary_results[0]
            rows = [row.to_dict() for row in table]
            if len(rows) > self._max_result_rows:
                raise StoreQueryError(f"{query.name}: {len(rows)} rows exceed the result cap")
            log.debug(
                "kusto_query",
                query=query.name,
                client_request_id=properties.client_request_id,
                rows=len(rows),
            )
            return normalize_rows(query, rows)
        raise StoreUnavailableError(f"{query.name}: no attempt made")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, base * 2^(attempt-1)]."""
        ceiling = self._backoff_base_s * (2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311  # nosec B311
