"""Shared fixtures: a throwaway PKI (real certificates) and a scriptable TLS Driver.

Everything here is real: certificates from `cryptography`, TLS from `ssl`,
sockets on 127.0.0.1 with ports chosen by the OS. Only the stdlib, `cryptography`, the
test tools and the package are imported, so the gateway's tests need nothing else (the gateway
ships no certificate generator: the one-machine platform's dev certificates live in
apps/local).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from powerwatch_gateway.tls import server_context


@dataclass(frozen=True)
class Issued:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def write(self, cert_path: Path, key_path: Path) -> None:
        cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: Issued | None,
    not_before: datetime | None,
    valid_for: timedelta,
) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
    )


def make_ca(common_name: str) -> Issued:
    """A self-signed CA that can sign leaf certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _certificate(common_name, key, None, None, timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return Issued(key, cert)


def issue(
    ca: Issued,
    common_name: str,
    *,
    server: bool,
    hosts: tuple[str, ...] = (),
    not_before: datetime | None = None,
    valid_for: timedelta = timedelta(days=30),
) -> Issued:
    """A leaf certificate: server (with SANs for `hosts`) or client."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        _certificate(common_name, key, ca, not_before, valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    ca: Path
    other_ca: Path
    server: CertFiles
    client: CertFiles
    client_from_other_ca: CertFiles
    expired_server: CertFiles
    expired_client: CertFiles
    server_for_other_name: CertFiles


def _write(directory: Path, name: str, issued: Issued) -> CertFiles:
    files = CertFiles(directory / f"{name}.pem", directory / f"{name}-key.pem")
    issued.write(files.cert, files.key)
    return files


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca, other = make_ca("test CA"), make_ca("other CA")
    for name, authority in (("ca", ca), ("other-ca", other)):
        (directory / f"{name}.pem").write_bytes(_pem(authority))
    past = datetime.now(UTC) - timedelta(days=10)
    hosts = ("127.0.0.1", "localhost")
    return Pki(
        ca=directory / "ca.pem",
        other_ca=directory / "other-ca.pem",
        server=_write(directory, "server", issue(ca, "driver", server=True, hosts=hosts)),
        client=_write(directory, "client", issue(ca, "gateway", server=False)),
        client_from_other_ca=_write(
            directory, "client-other", issue(other, "gateway", server=False)
        ),
        expired_server=_write(
            directory,
            "server-expired",
            issue(
                ca, "driver", server=True, hosts=hosts, not_before=past, valid_for=timedelta(days=1)
            ),
        ),
        expired_client=_write(
            directory,
            "client-expired",
            issue(ca, "gateway", server=False, not_before=past, valid_for=timedelta(days=1)),
        ),
        server_for_other_name=_write(
            directory,
            "server-other-name",
            issue(ca, "driver", server=True, hosts=("10.9.9.9", "driver.example")),
        ),
    )


def _pem(issued: Issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.PEM)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class TlsDriver:
    """A Driver stand-in: a real TLS server on its own event loop thread.

    `handler` scripts what each connection gets (lines, a drop mid-line,
    silence). Handshake failures are counted, so tests can assert that the
    server side refused too.
    """

    def __init__(self, context: ssl.SSLContext, handler: Handler) -> None:
        self._context = context
        self._handler = handler
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0
        self.connections = 0

    def __enter__(self) -> TlsDriver:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._handler(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@pytest.fixture
def tls_driver(pki: Pki) -> Callable[..., TlsDriver]:
    """Factory: tls_driver(handler, server=pki.server, ca=pki.ca, max_tls=None)."""

    def make(
        handler: Handler,
        server: CertFiles | None = None,
        ca: Path | None = None,
        context: ssl.SSLContext | None = None,
    ) -> TlsDriver:
        if context is None:
            files = server or pki.server
            context = server_context(ca or pki.ca, files.cert, files.key)
        return TlsDriver(context, handler)

    return make


def reading_line(
    device: str, seconds: int, seq: int | None = None, voltage: float = 230.0, current: float = 4.0
) -> bytes:
    """A valid Driver line, stamped `seconds` after a fixed recent instant."""
    ts = (
        (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds))
        .isoformat()
        .replace("+00:00", "Z")
    )
    seq_part = "" if seq is None else f',"seq":{seq}'
    fields = f'"device_id":"{device}","ts":"{ts}","voltage":{voltage},"current":{current}'
    return ("{" + fields + seq_part + "}").encode()


@pytest.fixture
def make_line() -> Callable[..., bytes]:
    return reading_line


@pytest.fixture
def spool_lines() -> Callable[[Path], list[bytes]]:
    """Every complete record line in a spool directory, in order.

    Safe to call while a gateway writes: before its first segment there are no lines, and a
    segment sealed (renamed) between the listing and the read makes it list again.
    """

    def read_once(segments: Path) -> list[bytes]:
        lines: list[bytes] = []
        for path in sorted(segments.iterdir()):
            data = path.read_bytes()
            lines.extend(data[: data.rfind(b"\n") + 1].splitlines())
        return lines

    def read(spool: Path) -> list[bytes]:
        segments = spool / "segments"
        while True:
            if not segments.is_dir():
                return []
            try:
                return read_once(segments)
            except FileNotFoundError:
                continue

    return read


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """The CLI configures structlog globally; give other tests (and packages) theirs back."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def run_async() -> Iterator[Callable[[Awaitable[object]], object]]:
    """Run a coroutine to completion on a fresh loop (no pytest-asyncio needed)."""

    def run(coro: Awaitable[object]) -> object:
        async def main() -> object:
            return await coro

        return asyncio.run(main())

    return run
