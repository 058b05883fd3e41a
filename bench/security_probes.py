"""Security probes against the real API process, with api-key and with entra auth.

    .venv/bin/python bench/security_probes.py

For each mode it starts `python -m powerwatch_local.serve` (the API + local ingestion of
`make up`) on a free 127.0.0.1 port over a spool of known readings, then sends:
- credentials that must be refused: none, expired, wrong audience, wrong issuer, bad
  signature, no read role (entra); none, wrong key, key in the wrong header (api-key);
  an oversized header (both) — each must get its documented status, never a 5xx;
- KQL injection payloads in every parameter of every route, with valid credentials:
  each must be a 400 (404 for the path's device id), never a 5xx, and every route's
  answer for the normal request must be the same before and after.
Entra ID is the local test issuer of the API's tests (`powerwatch_local.entra_issuer`): a real
JWKS server over a key generated here. Prints the counts; exit 0 only if all held.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess  # nosec B404 - our own serve command, no shell
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from powerwatch_gateway.model import OutputRecord, reading_id
from powerwatch_gateway.spool import SpoolWriter
from powerwatch_local.entra_issuer import LocalIssuer, new_key
from powerwatch_local.processes import free_port

NOW = datetime.now(UTC).replace(microsecond=0)
DEVICES = ("drv-01", "drv-02", "drv-03")
# The API tests' list of hostile texts (api/tests/test_injection.py): one list for both.
PAYLOADS_FILE = Path(__file__).resolve().parents[1] / "api/tests/data/kql_injection_payloads.json"
PAYLOADS: list[str] = json.loads(PAYLOADS_FILE.read_text(encoding="utf-8"))
OVERSIZED = "x" * (64 << 10)  # 4 x the 16 KiB head limit, yet one read on loopback


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


WINDOW = {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW + timedelta(minutes=1))}
# Every route and every parameter it takes (the path's device id is probed apart).
ROUTES: list[tuple[str, dict[str, str], list[str]]] = [
    ("/api/v1/events", {**WINDOW, "limit": "100"}, ["from", "to", "device", "limit", "cursor"]),
    ("/api/v1/incidents", {**WINDOW, "limit": "100"}, ["from", "to", "device", "limit"]),
    ("/api/v1/devices/drv-01/power", {**WINDOW, "bin": "1m"}, ["from", "to", "bin"]),
    ("/api/v1/devices", {}, []),
]


def seed_spool(spool: Path) -> int:
    """Known readings: 3 devices, 30 minutes at one a minute, every 7th over the threshold."""
    records = []
    for d, device in enumerate(DEVICES):
        for i in range(30):
            ts = NOW - timedelta(minutes=30 - i)
            current = 30.0 if (i + d) % 7 == 0 else 4.0
            records.append(
                OutputRecord(
                    reading_id=reading_id(device, ts, i),
                    device_id=device,
                    ts=ts,
                    seq=i,
                    voltage=230.0,
                    current=current,
                    received_at=ts,
                )
            )
    writer = SpoolWriter(spool)
    writer.open()
    writer.append(msgspec.json.Encoder().encode_lines(records))
    writer.close()
    return len(records)


class Api:
    def __init__(self, port: int, auth: dict[str, str]) -> None:
        self.port, self.auth = port, auth

    def get(
        self, path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path + query, headers=self.auth if headers is None else headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (ConnectionError, http.client.HTTPException):
            return -1, b""  # the server closed the connection instead of answering
        finally:
            conn.close()


@contextmanager
def serve(state: Path, env: dict[str, str]) -> Iterator[int]:
    spool, port = state / "spool", free_port()
    seed_spool(spool)
    argv = [sys.executable, "-m", "powerwatch_local.serve", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--spool", str(spool), "--database", str(state / "db.duckdb")]
    with (state / "serve.log").open("ab") as log:
        process = subprocess.Popen(  # nosec B603 - our own argv
            argv,
            env={**os.environ, "POWERWATCH_KUSTO_CLUSTER_URL": "", **env},
            stdout=log,
            stderr=log,
        )
    try:
        yield port
    finally:
        process.terminate()
        process.wait(30)


def wait_ready(api: Api) -> None:
    for _ in range(600):
        status, body = api.get("/api/v1/devices")
        if status == 200 and len(json.loads(body)["items"]) == len(DEVICES):
            return
        time.sleep(0.1)
    raise TimeoutError("the API did not serve the seeded devices within 60 s")


def probe_auth(api: Api, cases: list[tuple[str, dict[str, str], set[int]]]) -> list[str]:
    failures = []
    for name, headers, expected in cases:
        status, _ = api.get("/api/v1/devices", headers=headers)
        print(f"  {name:<28} -> {status}")
        if status not in expected:
            failures.append(f"{name}: {status}, expected {sorted(expected)}")
    return failures


def probe_injection(api: Api, counts: Counter[str]) -> list[str]:
    failures = []
    before = {path: api.get(path, base) for path, base, _ in ROUTES}
    for status, body in before.values():
        rows = json.loads(body) if status == 200 else {}
        counts["rows in the normal answers"] += len(rows.get("items", rows.get("points", [])))
    for payload in PAYLOADS:
        attempts = [
            (path, {**base, name: payload}) for path, base, names in ROUTES for name in names
        ]
        device = urllib.parse.quote(payload, safe="")
        attempts.append((f"/api/v1/devices/{device}/power", dict(WINDOW)))
        for path, params in attempts:
            status, _ = api.get(path, params)
            counts["injection requests"] += 1
            counts[f"injection -> {status}"] += 1
            allowed = {400, 404} if "/devices/" in path and path != ROUTES[2][0] else {400}
            if status not in allowed:
                failures.append(f"{path} {params}: {status}")
    after = {path: api.get(path, base) for path, base, _ in ROUTES}
    for path, (status, body) in before.items():
        if status != 200 or after[path] != (status, body):
            failures.append(f"{path}: rows changed or not 200 ({status} -> {after[path][0]})")
        counts["routes unchanged"] += after[path] == (status, body) and status == 200
    return failures


def run_mode(mode: str, state: Path, counts: Counter[str]) -> list[str]:
    print(f"== auth {mode}")
    if mode == "api-key":
        key = secrets.token_urlsafe(32)
        env = {"POWERWATCH_API_AUTH": "api-key", "POWERWATCH_API_KEY": key}
        good = {"X-API-Key": key}
        with serve(state, env) as port:
            api = Api(port, good)
            wait_ready(api)
            failures = probe_auth(
                api,
                [
                    ("no key", {}, {401}),
                    (
                        "wrong key",
                        {"X-API-Key": key[:-1] + ("A" if key[-1] != "A" else "B")},
                        {401},
                    ),
                    ("key as bearer token", {"Authorization": f"Bearer {key}"}, {401}),
                    ("oversized header", {"X-API-Key": OVERSIZED}, {431}),
                    ("right key", good, {200}),
                ],
            )
            failures += probe_injection(api, counts)
            return failures
    issuer = LocalIssuer()
    with issuer.serve_jwks() as jwks_url:
        env = {
            "POWERWATCH_API_AUTH": "entra",
            "POWERWATCH_ENTRA_TENANT_ID": issuer.tenant,
            "POWERWATCH_ENTRA_AUDIENCE": issuer.audience,
            "POWERWATCH_ENTRA_ISSUER": issuer.issuer,
            "POWERWATCH_ENTRA_JWKS_URL": jwks_url,
        }

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        good = bearer(issuer.token())
        with serve(state, env) as port:
            api = Api(port, good)
            wait_ready(api)
            failures = probe_auth(
                api,
                [
                    ("no token", {}, {401}),
                    ("expired", bearer(issuer.token(exp=int(time.time()) - 3600)), {401}),
                    ("wrong audience", bearer(issuer.token(aud="api://someone-else")), {401}),
                    ("wrong issuer", bearer(issuer.token(iss="https://evil.example/v2.0")), {401}),
                    ("bad signature", bearer(issuer.token(key=new_key())), {401}),
                    ("missing role", bearer(issuer.token(roles=[])), {403}),
                    ("oversized header", bearer(OVERSIZED), {431}),
                    ("valid token", good, {200}),
                ],
            )
            failures += probe_injection(api, counts)
            return failures


def main() -> int:
    counts: Counter[str] = Counter()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="powerwatch-probes-") as tmp:
        for mode in ("api-key", "entra"):
            state = Path(tmp) / mode
            state.mkdir()
            failures += [f"{mode}: {f}" for f in run_mode(mode, state, counts)]
    print("== counts")
    for name, value in sorted(counts.items()):
        print(f"  {name}: {value}")
    print(f"failures: {len(failures)}")
    for failure in failures:
        print(f"  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
