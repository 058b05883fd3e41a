"""Real TLS sockets with generated certificates: what the Driver connection accepts and refuses."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
from powerwatch_gateway.deadletter import DeadLetterWriter
from powerwatch_gateway.driver_client import DriverClient
from powerwatch_gateway.metrics import GatewayMetrics
from powerwatch_gateway.pipeline import IngestPipeline
from powerwatch_gateway.sinks import SpoolSink
from powerwatch_gateway.spool import SpoolWriter
from powerwatch_gateway.tls import client_context
from powerwatch_gateway.validation import Validator


async def send_two_lines(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(
        b'{"device_id":"d1","ts":"2026-01-01T00:00:00Z","voltage":230,"current":2,"seq":1}\n'
        b'{"device_id":"d1","ts":"2026-01-01T00:00:01Z","voltage":230,"current":2,"seq":2}\n'
    )
    await writer.drain()


async def connect_once(
    tmp: Path, port: int, context: ssl.SSLContext, server_name: str = "127.0.0.1"
) -> tuple[int, int]:
    """One real connection through DriverClient; returns (bytes received, readings accepted)."""
    spool = SpoolWriter(tmp / "spool")
    spool.open()
    pipeline = IngestPipeline(
        Validator(), SpoolSink(spool), DeadLetterWriter(tmp / "dl.ndjson"), GatewayMetrics()
    )
    await pipeline.start()
    client = DriverClient(
        "127.0.0.1",
        port,
        context,
        pipeline,
        GatewayMetrics(),
        server_name=server_name,
        silent_after_s=5,
    )
    try:
        received = await client.connect_once(asyncio.Event())
    finally:
        await pipeline.close()
        spool.close()
    return received, pipeline.accepted


def test_mutual_tls_13_works_and_readings_flow(pki, tls_driver, tmp_path, run_async) -> None:  # type: ignore[no-untyped-def]
    with tls_driver(send_two_lines) as driver:
        context = client_context(pki.ca, pki.client.cert, pki.client.key)
        received, accepted = run_async(connect_once(tmp_path, driver.port, context))
    assert received > 0
    assert accepted == 2
    assert driver.connections == 1


def test_name_check_uses_localhost_too(pki, tls_driver, tmp_path, run_async) -> None:  # type: ignore[no-untyped-def]
    with tls_driver(send_two_lines) as driver:
        context = client_context(pki.ca, pki.client.cert, pki.client.key)
        assert run_async(connect_once(tmp_path, driver.port, context, "localhost"))[1] == 2


@pytest.mark.parametrize(
    ("server", "ca", "message"),
    [
        (
            "server",
            "other_ca",
            "certificate verify failed",
        ),  # Driver's cert from a CA we do not pin
        ("expired_server", "ca", "certificate has expired"),
        ("server_for_other_name", "ca", "IP address mismatch"),
    ],
)
def test_the_gateway_refuses_a_driver_it_cannot_verify(
    pki, tls_driver, tmp_path, run_async, server: str, ca: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    with tls_driver(send_two_lines, server=getattr(pki, server)) as driver:
        context = client_context(getattr(pki, ca), pki.client.cert, pki.client.key)
        with pytest.raises(ssl.SSLCertVerificationError, match=message):
            run_async(connect_once(tmp_path, driver.port, context))
    assert driver.connections == 0


def test_the_gateway_refuses_tls_12(pki, tls_driver, tmp_path, run_async) -> None:  # type: ignore[no-untyped-def]
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    old.load_cert_chain(pki.server.cert, pki.server.key)
    with tls_driver(send_two_lines, context=old) as driver:
        context = client_context(pki.ca, pki.client.cert, pki.client.key)
        # The server (max TLS 1.2) cannot answer a TLS 1.3-only hello: alert or reset.
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            run_async(connect_once(tmp_path, driver.port, context))
    assert driver.connections == 0


def _client(
    pki, cert: Callable[[ssl.SSLContext], None] | None, tls12: bool = False
) -> ssl.SSLContext:  # type: ignore[no-untyped-def]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(pki.ca)
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        cert(context)
    return context


async def try_read(port: int, context: ssl.SSLContext) -> bytes:
    """A client that gets as far as it can; what it reads (if anything) is returned."""
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname="127.0.0.1"
        )
    except (ssl.SSLError, ConnectionError):
        return b""
    try:
        return await asyncio.wait_for(reader.read(1000), 5)
    except (ssl.SSLError, ConnectionError):
        return b""
    finally:
        writer.close()


@pytest.mark.parametrize(
    "client",
    ["no client cert", "client cert from another CA", "expired client cert", "TLS 1.2 client"],
)
def test_driver_side_refuses_weak_or_unknown_clients(
    pki, tls_driver, run_async, client: str
) -> None:  # type: ignore[no-untyped-def]
    """The driver-sim's server context (mutual TLS 1.3) lets none of these through."""
    setups = {
        "no client cert": _client(pki, None),
        "client cert from another CA": _client(
            pki,
            lambda c: c.load_cert_chain(
                pki.client_from_other_ca.cert, pki.client_from_other_ca.key
            ),
        ),
        "expired client cert": _client(
            pki, lambda c: c.load_cert_chain(pki.expired_client.cert, pki.expired_client.key)
        ),
        "TLS 1.2 client": _client(
            pki, lambda c: c.load_cert_chain(pki.client.cert, pki.client.key), tls12=True
        ),
    }
    with tls_driver(send_two_lines) as driver:
        assert run_async(try_read(driver.port, setups[client])) == b""
    assert driver.connections == 0  # the handshake never completed on the server


def test_client_context_requires_tls13_verification_and_name_checks(pki) -> None:  # type: ignore[no-untyped-def]
    context = client_context(pki.ca, pki.client.cert, pki.client.key)
    assert context.minimum_version is ssl.TLSVersion.TLSv1_3
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
