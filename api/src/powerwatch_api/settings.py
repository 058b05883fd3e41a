"""Settings, one frozen dataclass per concern, read from the environment once.

Every problem in the environment is collected and reported together, naming the
variable, so a misconfigured deployment fails at start-up with one clear message
instead of at the first request.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar, cast
from urllib.parse import urlsplit

AuthMode = Literal["none", "api-key", "entra"]
KustoAuth = Literal["default-credential", "none"]

_T = TypeVar("_T")


class SettingsError(ValueError):
    """The environment does not describe a runnable API; lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid API settings:\n  - " + "\n  - ".join(problems))


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Reader:
    """Reads typed values from an environment mapping, collecting problems."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str = "") -> str:
        return self.environ.get(name, default).strip()

    def parsed(self, name: str, default: _T, parse: Callable[[str], _T], expected: str) -> _T:
        raw = self.text(name)
        if not raw:
            return default
        try:
            return parse(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not {expected}")
            return default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.parsed(name, default, int, "an integer")
        if not low <= value <= high:
            self.problems.append(f"{name}={value} is outside {low}..{high}")
            return default
        return value

    def seconds(self, name: str, default: float, low: float, high: float) -> float:
        value = self.parsed(name, default, float, "a number of seconds")
        if not low <= value <= high:
            self.problems.append(f"{name}={value} is outside {low}..{high} seconds")
            return default
        return value

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in allowed:
            self.problems.append(f"{name}={value!r} must be one of {', '.join(allowed)}")
            return default
        return value

    def require(self, name: str, why: str) -> str:
        value = self.text(name)
        if not value:
            self.problems.append(f"{name} is required {why}")
        return value


@dataclass(frozen=True)
class ServerSettings:
    """Where the API listens and how much it accepts per request."""

    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"
    #: Every endpoint is a GET; a body has no business being large.
    max_body_bytes: int = 16 * 1024
    #: Exact origins allowed cross-origin; empty = CORS off (the default).
    cors_origins: tuple[str, ...] = ()
    #: Process tuning the entry point applies before serving (never the library): the
    #: interpreter's GIL switch interval (0 = CPython's default, 5 ms). A query's worker
    #: thread needs the GIL to hand its rows back while the event loop holds it, and a
    #: waiting thread gets it only at the next switch: a short interval cuts that wait.
    gil_switch_interval_s: float = 0.0
    #: gc.freeze() the start-up heap (app, routes, modules) so full collections skip it.
    gc_freeze: bool = False

    @classmethod
    def read(cls, env: _Reader) -> ServerSettings:
        origins = tuple(
            o.strip() for o in env.text("POWERWATCH_API_CORS_ORIGINS").split(",") if o.strip()
        )
        for origin in origins:
            parts = urlsplit(origin)
            if origin == "*" or parts.scheme not in ("http", "https") or not parts.netloc:
                env.problems.append(
                    f"POWERWATCH_API_CORS_ORIGINS entry {origin!r} must be an exact "
                    "http(s)://host[:port] origin (no wildcard)"
                )
        return cls(
            host=env.text("POWERWATCH_API_HOST", cls.host),
            port=env.integer("POWERWATCH_API_PORT", cls.port, 0, 65535),
            log_level=env.choice(
                "POWERWATCH_API_LOG_LEVEL", cls.log_level, ("debug", "info", "warning", "error")
            ),
            max_body_bytes=env.integer(
                "POWERWATCH_API_MAX_BODY_BYTES", cls.max_body_bytes, 0, 1024 * 1024
            ),
            cors_origins=origins,
            gil_switch_interval_s=env.seconds(
                "POWERWATCH_API_GIL_SWITCH_INTERVAL_S", cls.gil_switch_interval_s, 0, 0.1
            ),
            gc_freeze=env.choice("POWERWATCH_API_GC_FREEZE", "0", ("0", "1")) == "1",
        )


@dataclass(frozen=True)
class StoreSettings:
    """Which store answers queries: Azure Data Explorer when a cluster is set, else local."""

    cluster_url: str = ""
    database: str = ""
    kusto_auth: KustoAuth = "default-credential"
    request_timeout_s: float = 10.0
    max_attempts: int = 3
    #: DuckDB file of the embedded engine (":memory:" = empty, in-process).
    local_database: str = ":memory:"
    #: Directory holding the .kql scripts (tables/, functions/, ...); "" = the kusto/
    #: folder next to the installed powerwatch_kusto sources (a checkout).
    kusto_root: str = ""
    #: ADX may answer an identical call (same function, same parameters) from its query
    #: results cache when the cached result is at most this old; 0 = always run it.
    kusto_results_cache_max_age_s: float = 0.0

    @property
    def uses_kusto(self) -> bool:
        return bool(self.cluster_url)

    @classmethod
    def read(cls, env: _Reader) -> StoreSettings:
        cluster_url = env.text("POWERWATCH_KUSTO_CLUSTER_URL").rstrip("/")
        database = ""
        kusto_auth = cast(
            KustoAuth,
            env.choice("POWERWATCH_KUSTO_AUTH", cls.kusto_auth, ("default-credential", "none")),
        )
        if cluster_url:
            database = env.require("POWERWATCH_KUSTO_DATABASE", "when a cluster URL is set")
            parts = urlsplit(cluster_url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                env.problems.append(
                    f"POWERWATCH_KUSTO_CLUSTER_URL={cluster_url!r} is not an http(s) URL"
                )
            elif (parts.scheme == "http" or kusto_auth == "none") and not is_loopback_host(
                parts.hostname
            ):
                # Plain HTTP and anonymous access exist for the local test endpoint only.
                env.problems.append(
                    "POWERWATCH_KUSTO_CLUSTER_URL must be https with "
                    "POWERWATCH_KUSTO_AUTH=default-credential unless it is a loopback address"
                )
        return cls(
            cluster_url=cluster_url,
            database=database,
            kusto_auth=kusto_auth,
            request_timeout_s=env.seconds(
                "POWERWATCH_KUSTO_TIMEOUT_S", cls.request_timeout_s, 0.1, 300
            ),
            max_attempts=env.integer("POWERWATCH_KUSTO_MAX_ATTEMPTS", cls.max_attempts, 1, 10),
            kusto_results_cache_max_age_s=env.seconds(
                "POWERWATCH_KUSTO_RESULTS_CACHE_MAX_AGE_S",
                cls.kusto_results_cache_max_age_s,
                0,
                86_400,
            ),
            local_database=env.text("POWERWATCH_LOCAL_DB", cls.local_database),
            kusto_root=env.text("POWERWATCH_KUSTO_ROOT"),
        )


@dataclass(frozen=True)
class AuthSettings:
    """Who may read. Entra ID bearer tokens in production; loopback may use none or a key."""

    mode: AuthMode = "none"
    api_key: str = field(default="", repr=False)
    tenant_id: str = ""
    audience: str = ""
    issuer: str = ""
    jwks_url: str = ""
    read_role: str = "Events.Read"
    leeway_s: float = 60.0

    @classmethod
    def read(cls, env: _Reader) -> AuthSettings:
        mode = cast(
            AuthMode, env.choice("POWERWATCH_API_AUTH", "none", ("none", "api-key", "entra"))
        )
        api_key = tenant = audience = issuer = jwks_url = ""
        if mode == "api-key":
            api_key = env.require("POWERWATCH_API_KEY", "when POWERWATCH_API_AUTH=api-key")
            if api_key and len(api_key) < 32:
                env.problems.append("POWERWATCH_API_KEY must be at least 32 characters")
        if mode == "entra":
            tenant = env.require("POWERWATCH_ENTRA_TENANT_ID", "when POWERWATCH_API_AUTH=entra")
            audience = env.require("POWERWATCH_ENTRA_AUDIENCE", "when POWERWATCH_API_AUTH=entra")
            if tenant and not re.fullmatch(r"[A-Za-z0-9.-]{1,100}", tenant):
                env.problems.append("POWERWATCH_ENTRA_TENANT_ID has an unexpected shape")
            authority = f"https://login.microsoftonline.com/{tenant}"
            issuer = env.text("POWERWATCH_ENTRA_ISSUER", f"{authority}/v2.0")
            jwks_url = env.text("POWERWATCH_ENTRA_JWKS_URL", f"{authority}/discovery/v2.0/keys")
        return cls(
            mode=mode,
            api_key=api_key,
            tenant_id=tenant,
            audience=audience,
            issuer=issuer,
            jwks_url=jwks_url,
            read_role=env.text("POWERWATCH_ENTRA_READ_ROLE", cls.read_role),
            leeway_s=env.seconds("POWERWATCH_ENTRA_LEEWAY_S", cls.leeway_s, 0, 300),
        )


@dataclass(frozen=True)
class LimitsSettings:
    """Bounds on what one request may ask of the store."""

    max_window: timedelta = timedelta(days=31)
    default_window: timedelta = timedelta(hours=24)
    default_limit: int = 100
    max_limit: int = 1000
    #: A power series returns at most this many bins (one week of 1-minute bins).
    max_series_points: int = 10_080
    #: A device with no reading for this long is "silent".
    silent_after: timedelta = timedelta(minutes=2)

    @classmethod
    def read(cls, env: _Reader) -> LimitsSettings:
        default_limit = env.integer("POWERWATCH_API_DEFAULT_LIMIT", cls.default_limit, 1, 10_000)
        max_limit = env.integer("POWERWATCH_API_MAX_LIMIT", cls.max_limit, 1, 10_000)
        if default_limit > max_limit:
            env.problems.append("POWERWATCH_API_DEFAULT_LIMIT exceeds POWERWATCH_API_MAX_LIMIT")
        return cls(
            max_window=timedelta(
                days=env.integer("POWERWATCH_API_MAX_WINDOW_DAYS", cls.max_window.days, 1, 3660)
            ),
            default_limit=default_limit,
            max_limit=max_limit,
            max_series_points=env.integer(
                "POWERWATCH_API_MAX_SERIES_POINTS", cls.max_series_points, 10, 1_000_000
            ),
            silent_after=timedelta(
                seconds=env.seconds(
                    "POWERWATCH_DEVICE_SILENT_AFTER_S", cls.silent_after.total_seconds(), 1, 86_400
                )
            ),
        )


@dataclass(frozen=True)
class TracingSettings:
    """OpenTelemetry tracing, from the standard OTEL_* variables; off unless an endpoint is set."""

    #: OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT).
    otlp_endpoint: str = ""
    service_name: str = "powerwatch-api"

    @property
    def enabled(self) -> bool:
        return bool(self.otlp_endpoint)

    @classmethod
    def read(cls, env: _Reader) -> TracingSettings:
        endpoint = env.text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.text(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        off = env.text("OTEL_SDK_DISABLED").lower() == "true" or (
            env.text("OTEL_TRACES_EXPORTER").lower() == "none"
        )
        if endpoint and not off:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                env.problems.append(f"OTLP endpoint {endpoint!r} is not an http(s) URL")
        return cls(
            otlp_endpoint="" if off else endpoint,
            service_name=env.text("OTEL_SERVICE_NAME", cls.service_name),
        )


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every concern; raise SettingsError naming each bad variable."""
        env = _Reader(os.environ if environ is None else environ)
        settings = cls(
            server=ServerSettings.read(env),
            store=StoreSettings.read(env),
            auth=AuthSettings.read(env),
            limits=LimitsSettings.read(env),
            tracing=TracingSettings.read(env),
        )
        env.problems.extend(settings.policy_problems())
        if env.problems:
            raise SettingsError(env.problems)
        return settings

    def policy_problems(self) -> list[str]:
        """Combinations that are individually valid but unsafe together."""
        problems = []
        if not is_loopback_host(self.server.host) and self.auth.mode == "none":
            problems.append(
                f"POWERWATCH_API_HOST={self.server.host} is not loopback: set "
                "POWERWATCH_API_AUTH=entra (or api-key); unauthenticated access is loopback-only"
            )
        return problems
