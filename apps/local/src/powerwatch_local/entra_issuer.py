"""A local stand-in for an Entra ID tenant, for tests and bench only (not in the API wheel).

Entra ID cannot exist on these machines, so its one part the API talks to — the tenant's
JWKS endpoint — is faked narrowly: a real local HTTP server serving the public half of a
key generated in memory. Everything else (fetching and caching the set, signature, issuer,
audience, expiry and role checks) stays the production code path. `token()` mints a
token as the tenant would, with any claim overridden to make a bad one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT = "11111111-2222-3333-4444-555555555555"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
AUDIENCE = "api://powerwatch-api"
KID = "test-key-1"
READ_ROLE = "Events.Read"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class LocalIssuer:
    """The tenant: a signing key, its JWKS endpoint on 127.0.0.1, and a token mint."""

    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = KID
    tenant: str = TENANT
    issuer: str = ISSUER
    audience: str = AUDIENCE

    def jwks(self) -> bytes:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return json.dumps({"keys": [jwk]}).encode()

    @contextmanager
    def serve_jwks(self) -> Iterator[str]:
        """Serve the key set; yields its URL (the tenant's discovery path)."""
        body = self.jwks()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/{self.tenant}/discovery/v2.0/keys"
        finally:
            server.shutdown()
            server.server_close()

    def token(
        self,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        roles: list[str] | None = None,
        **overrides: Any,
    ) -> str:
        """A token as the tenant issues it; `overrides` replace claims (e.g. `exp`)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "client-app",
            "oid": "00000000-0000-0000-0000-00000000abcd",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "roles": [READ_ROLE] if roles is None else roles,
        }
        claims.update(overrides)
        headers = {"kid": self.kid if kid is None else kid}
        return jwt.encode(claims, self.key if key is None else key, "RS256", headers=headers)
