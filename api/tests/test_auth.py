"""Entra ID bearer tokens and the API key.

Entra ID cannot exist here, so the tenant's JWKS endpoint is faked — narrowly: a real
local HTTP server serving the public half of keys these tests generate. Everything
else (PyJWKClient fetching and caching the set, signature, issuer, audience, expiry
and role checks) is the production code path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.settings import AuthSettings
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto

TENANT = "11111111-2222-3333-4444-555555555555"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
AUDIENCE = "api://powerwatch-api"
KID = "test-key-1"
URL = "/api/v1/devices"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = new_key()


class _JwksHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The fake tenant JWKS endpoint (the one stand-in in this module)."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True)
    jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
    _JwksHandler.body = json.dumps({"keys": [jwk]}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{TENANT}/discovery/v2.0/keys"
    server.shutdown()
    server.server_close()


def token(
    *,
    key: rsa.RSAPrivateKey = SIGNING_KEY,
    kid: str = KID,
    roles: list[str] | None = None,
    **overrides: Any,
) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "client-app",
        "oid": "00000000-0000-0000-0000-00000000abcd",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "roles": ["Events.Read"] if roles is None else roles,
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


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
