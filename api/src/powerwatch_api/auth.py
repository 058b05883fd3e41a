"""Who may read: Entra ID bearer tokens in production, an API key or nothing on loopback.

Entra ID: the token's signature is checked against the tenant's JWKS (PyJWKClient,
keys cached, fetched off the event loop), then issuer, audience, expiry and the app
role for reading. A missing or invalid token is 401; a valid token without the role
is 403. Health, readiness and the OpenAPI document need no credentials.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import jwt
import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from litestar.types import ASGIApp

from powerwatch_api.settings import AuthSettings
from powerwatch_api.stores.base import StoreUnavailableError

log = structlog.get_logger("powerwatch_api.auth")

#: Paths anyone may call: probes and the API description.
PUBLIC_PATHS = [r"^/healthz$", r"^/readyz$", r"^/schema"]
#: Entra ID signs access tokens with RS256; anything else is refused outright.
ALGORITHMS = ["RS256"]


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]


class EntraTokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._audiences = [a.strip() for a in settings.audience.split(",") if a.strip()]
        self._jwks = jwt.PyJWKClient(
            settings.jwks_url, cache_keys=True, cache_jwk_set=True, lifespan=3600, timeout=5
        )

    async def verify(self, token: str) -> Principal:
        try:
            # Network I/O on a cache miss: keep it off the event loop.
            key = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as error:
            log.error("jwks_unreachable", error=str(error))
            raise StoreUnavailableError("token keys unavailable") from error
        except (jwt.PyJWKClientError, jwt.PyJWTError) as error:
            raise NotAuthorizedException("invalid bearer token: unknown signing key") from error
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._audiences,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise NotAuthorizedException("invalid bearer token: expired") from error
        except jwt.InvalidAudienceError as error:
            raise NotAuthorizedException("invalid bearer token: wrong audience") from error
        except jwt.InvalidIssuerError as error:
            raise NotAuthorizedException("invalid bearer token: wrong issuer") from error
        except jwt.InvalidSignatureError as error:
            raise NotAuthorizedException("invalid bearer token: bad signature") from error
        except jwt.PyJWTError as error:
            raise NotAuthorizedException(f"invalid bearer token: {type(error).__name__}") from error
        roles = claims.get("roles", [])
        return Principal(
            subject=str(claims.get("oid") or claims.get("sub") or ""),
            roles=frozenset(r for r in roles if isinstance(r, str))
            if isinstance(roles, list)
            else frozenset(),
        )


def _header(connection: ASGIConnection[Any, Any, Any, Any], name: str) -> str:
    return connection.headers.get(name, "")


class EntraAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, verifier: EntraTokenVerifier, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._verifier = verifier

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, token = _header(connection, "authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("a bearer token is required")
        principal = await self._verifier.verify(token.strip())
        return AuthenticationResult(user=principal, auth=None)


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, api_key: str, read_role: str, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._key = api_key.encode()
        self._principal = Principal(subject="api-key", roles=frozenset({read_role}))

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        supplied = _header(connection, "x-api-key").encode()
        # Constant time: the comparison must not leak how much of the key matched.
        if not supplied or not hmac.compare_digest(supplied, self._key):
            raise NotAuthorizedException("a valid X-API-Key header is required")
        return AuthenticationResult(user=self._principal, auth=None)


def auth_middleware(settings: AuthSettings) -> list[DefineMiddleware]:
    if settings.mode == "entra":
        verifier = EntraTokenVerifier(settings)
        return [DefineMiddleware(EntraAuthMiddleware, verifier=verifier, exclude=PUBLIC_PATHS)]
    if settings.mode == "api-key":
        return [
            DefineMiddleware(
                ApiKeyMiddleware,
                api_key=settings.api_key,
                read_role=settings.read_role,
                exclude=PUBLIC_PATHS,
            )
        ]
    return []


async def requires_reader(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: 403 unless the caller holds the read role (no-op when auth is off).

    A coroutine although it never waits: Litestar runs a plain-function guard in a worker
    thread, a thread round trip on every request (bench/bench_api.py's profile).
    """
    settings: AuthSettings = connection.app.state.settings.auth
    if settings.mode == "none":
        return
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal) or settings.read_role not in principal.roles:
        raise PermissionDeniedException(f"the app role {settings.read_role!r} is required")
