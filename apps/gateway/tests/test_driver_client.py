"""Fault injection on the Driver connection, through the whole in-process gateway:
drops mid-line, a silent Driver, over-long lines; health endpoints while it runs."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import msgspec
from powerwatch_gateway.backoff import Backoff
from powerwatch_gateway.service import Gateway
from powerwatch_gateway.settings import Settings


def settings_for(tmp: Path, pki, port: int, **overrides: object) -> Settings:  # type: ignore[no-untyped-def]
    base: dict[str, object] = {
        "driver_host": "127.0.0.1",
        "driver_port": port,
        "driver_ca_file": pki.ca,
        "driver_cert_file": pki.client.cert,
        "driver_key_file": pki.client.key,
        "data_dir": tmp / "data",
        "http_port": 0,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        "batch_interval_s": 0.05,
        "silent_after_s": 5.0,
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


async def run_until(gateway: Gateway, done: Callable[[], bool], limit_s: float = 15.0) -> None:
    stop = asyncio.Event()
    serving = asyncio.create_task(gateway.serve(stop))
    deadline = time.monotonic() + limit_s
    try:
        while not done():
            assert time.monotonic() < deadline, "condition not reached in time"
            assert not serving.done(), serving
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await serving


def dead_letters(settings: Settings) -> list[dict[str, object]]:
    path = settings.dead_letter_path
    return (
        [msgspec.json.decode(line) for line in path.read_bytes().splitlines()]
        if path.exists()
        else []
    )


def test_driver_drops_mid_line_then_reconnect_delivers_the_rest(
    pki, tls_driver, make_line, spool_lines, tmp_path, run_async
) -> None:  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if driver.connections == 1:
            writer.write(
                b"\n".join(make_line("d1", i, i) for i in range(3))
                + b"\n"
                + make_line("d1", 3, 3)[:25]
            )
            await writer.drain()
            writer.transport.abort()  # cut the TCP connection in the middle of line 4
            return
        writer.write(b"\n".join(make_line("d1", i, i) for i in range(3, 6)) + b"\n")
        await writer.drain()
        await asyncio.sleep(30)

    with tls_driver(handler) as driver:
        settings = settings_for(tmp_path, pki, driver.port)
        gateway = Gateway(settings)
        run_async(
            run_until(
                gateway,
                lambda: (
                    gateway.pipeline.accepted >= 6 and gateway.metrics.spooled._value.get() >= 6
                ),
            )
        )
    seqs = [msgspec.json.decode(line)["seq"] for line in spool_lines(settings.spool_path)]
    assert seqs == [0, 1, 2, 3, 4, 5]  # line 3 arrived complete on the second connection
    assert driver.connections == 2
    assert [d["reason"] for d in dead_letters(settings)] == ["incomplete_line"]
    assert gateway.metrics.reconnects._value.get() >= 1


def test_silent_driver_is_detected_and_reconnected(
    pki, tls_driver, make_line, spool_lines, tmp_path, run_async
) -> None:  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(make_line("d1", driver.connections, driver.connections) + b"\n")
        await writer.drain()
        await asyncio.sleep(60)  # then silence, connection left open

    with tls_driver(handler) as driver:
        settings = settings_for(tmp_path, pki, driver.port, silent_after_s=0.4)
        gateway = Gateway(settings)
        run_async(run_until(gateway, lambda: gateway.pipeline.accepted >= 3))
    assert driver.connections >= 3
    assert gateway.metrics.connection_errors.labels("silent")._value.get() >= 2
    assert len(spool_lines(settings.spool_path)) >= 3


def test_over_long_and_bad_lines_do_not_end_the_connection(
    pki, tls_driver, make_line, spool_lines, tmp_path, run_async
) -> None:  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(make_line("d1", 0, 0) + b"\n")
        writer.write(b"{" + b"x" * 200_000 + b"}\n")  # far over the limit, several TLS records
        writer.write(b"\xff\xfe garbage\n")
        writer.write(make_line("d1", 1, 1) + b"\n")
        await writer.drain()
        await asyncio.sleep(60)

    with tls_driver(handler) as driver:
        settings = settings_for(tmp_path, pki, driver.port, max_line_bytes=1024)
        gateway = Gateway(settings)

        def done() -> bool:
            return gateway.pipeline.accepted >= 2 and sum(gateway.pipeline.rejected.values()) >= 2

        run_async(run_until(gateway, done))
    assert driver.connections == 1
    letters = dead_letters(settings)
    assert sorted(str(d["reason"]) for d in letters) == ["bad_utf8", "line_too_long"]
    too_long = next(d for d in letters if d["reason"] == "line_too_long")
    assert too_long["raw_truncated"] is False
    assert too_long["raw_bytes"] == 1024
    assert len(spool_lines(settings.spool_path)) == 2


def test_health_readiness_and_metrics_over_http(
    pki, tls_driver, make_line, tmp_path, run_async
) -> None:  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(make_line("d1", 0, 0) + b"\nnot json\n")
        await writer.drain()
        await asyncio.sleep(60)

    seen: dict[str, tuple[int, bytes]] = {}

    def get(port: int, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    async def main(gateway: Gateway) -> None:
        stop = asyncio.Event()
        serving = asyncio.create_task(gateway.serve(stop))
        while gateway.pipeline.accepted < 1 or sum(gateway.pipeline.rejected.values()) < 1:  # noqa: ASYNC110 - polling the gateway's counters
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # let the batch reach the spool
        for path in ("/healthz", "/readyz", "/metrics", "/nope"):
            seen[path] = await asyncio.to_thread(get, gateway.http.port, path)
        stop.set()
        await serving

    with tls_driver(handler) as driver:
        run_async(asyncio.wait_for(main(Gateway(settings_for(tmp_path, pki, driver.port))), 15))
    assert seen["/healthz"][0] == 200
    ready = msgspec.json.decode(seen["/readyz"][1])
    assert seen["/readyz"][0] == 200
    assert ready["ready"]
    assert ready["driver_connected"]
    metrics = seen["/metrics"][1].decode()
    assert "powerwatch_gateway_readings_accepted_total 1.0" in metrics
    assert 'powerwatch_gateway_readings_rejected_total{reason="not_json"} 1.0' in metrics
    assert "powerwatch_gateway_spool_depth_records" in metrics
    assert seen["/nope"][0] == 404


def test_backoff_is_exponential_with_full_jitter() -> None:
    import random

    backoff = Backoff(0.5, 4.0, random.Random(3))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule
    backoff.reset()
    assert backoff.next_delay() <= 0.5
