"""Entra ID bearer tokens and the API key.

Entra ID cannot exist here, so the tenant's JWKS endpoint is faked — narrowly: a real
local HTTP server serving the public half of keys these tests generate
(`powerwatch_local.entra_issuer.LocalIssuer`, shared with bench/security_probes.py). Everything
else (PyJWKClient fetching and caching the set, signature, issuer, audience, expiry
and role checks) is the production code path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.settings import AuthSettings
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto
from powerwatch_local.entra_issuer import AUDIENCE, ISSUER, TENANT, LocalIssuer, new_key

URL = "/api/v1/devices"
ISSUING = LocalIssuer()
token = ISSUING.token


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The fake tenant JWKS endpoint (the one stand-in in this module)."""
    with ISSUING.serve_jwks() as url:
        yield url


@pytest.fixture(scope="module")
def entra_client(engine: LocalKusto, jwks_url: str) -> Iterator[TestClient[Any]]:
    settings = Settings(
        auth=AuthSettings(
            mode="entra", tenant_id=TENANT, audience=AUDIENCE, issuer=ISSUER, jwks_url=jwks_url
        )
    )
    with TestClient(create_app(settings, store=LocalStore(engine=engine))) as client:
        yield client


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_valid_token_with_the_read_role_is_accepted(entra_client: TestClient[Any]) -> None:
    response = entra_client.get(URL, headers=bearer(token()))
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 3


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "bearer token is required"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "bearer token is required"),
        (bearer(token(exp=int(time.time()) - 3600)), "expired"),
        (bearer(token(aud="api://someone-else")), "wrong audience"),
        (bearer(token(iss="https://login.microsoftonline.com/evil/v2.0")), "wrong issuer"),
        (bearer(token(key=new_key())), "bad signature"),
        (bearer(token(kid="unknown-kid")), "unknown signing key"),
        (bearer("not.a.jwt"), "invalid bearer token"),
        (
            bearer(
                jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "roles": ["Events.Read"]}, "k" * 32)
            ),
            "invalid bearer token",
        ),
    ],
    ids=[
        "no-token",
        "wrong-scheme",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "bad-signature",
        "unknown-kid",
        "garbage",
        "hs256",
    ],
)
def test_bad_credentials_are_401_with_a_challenge(
    entra_client: TestClient[Any], headers: dict[str, str], reason: str
) -> None:
    response = entra_client.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert reason in response.json()["detail"]


def test_a_token_without_the_read_role_is_403(entra_client: TestClient[Any]) -> None:
    for roles in ([], ["Events.Write"], ["events.read"]):
        response = entra_client.get(URL, headers=bearer(token(roles=roles)))
        assert response.status_code == 403
        assert "Events.Read" in response.json()["detail"]


def test_probes_and_schema_need_no_token(entra_client: TestClient[Any]) -> None:
    assert entra_client.get("/healthz").status_code == 200
    assert entra_client.get("/readyz").status_code == 200
    schema = entra_client.get("/schema/openapi.json").json()
    assert schema["components"]["securitySchemes"]["EntraID"]["scheme"] == "bearer"
    # The UI and its files load before anyone has a token to paste into "Authorize".
    assert entra_client.get("/schema").status_code == 200
    assert entra_client.get("/schema/assets/swagger-ui-bundle.js").status_code == 200


def test_api_key_mode(engine: LocalKusto) -> None:
    key = "k3y-" + "x" * 40
    settings = Settings(auth=AuthSettings(mode="api-key", api_key=key))
    with TestClient(create_app(settings, store=LocalStore(engine=engine))) as client:
        assert client.get(URL).status_code == 401
        assert client.get(URL, headers={"X-API-Key": key[:-1] + "y"}).status_code == 401
        assert client.get(URL, headers={"X-API-Key": key}).status_code == 200
        assert client.get("/healthz").status_code == 200
