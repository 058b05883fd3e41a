"""driver-sim and its reading model: realistic values, scheduled surges, bad lines, mutual TLS."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from powerwatch_gateway.model import DriverReading
from powerwatch_gateway.readings_model import BAD_LINES, ReadingModel
from powerwatch_gateway.validation import Validator

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
decode = msgspec.json.Decoder(DriverReading).decode


def test_readings_are_mains_like_and_valid() -> None:
    model = ReadingModel(20, surge_every_s=0)
    readings = [decode(line) for t in range(120) for line in model.tick(NOW, float(t))]
    assert len(readings) == 2400
    assert all(215 < r.voltage < 245 for r in readings)
    assert all(0 <= r.current < 25 for r in readings)
    assert max(r.voltage * r.current for r in readings) < 5000  # no surge scheduled: normal load
    assert [r.seq for r in readings if r.device_id == "drv-01"] == list(range(1, 121))
    result = Validator().validate(model.tick(NOW, 121.0), NOW)
    assert (result.accepted, result.rejections) == (20, [])


def test_a_surge_is_scheduled_every_interval_on_a_rotating_device() -> None:
    model = ReadingModel(3, surge_every_s=60, surge_seconds=5)
    assert model.surging_device(30) is None
    assert model.surging_device(61) == 0
    assert model.surging_device(66) is None
    assert model.surging_device(121) == 1
    surge = [decode(line) for line in model.tick(NOW, 62.0)]
    assert surge[0].voltage * surge[0].current > 5000  # over the default critical threshold
    assert all(r.voltage * r.current < 5000 for r in surge[1:])


def test_bad_line_injection_uses_lines_the_gateway_rejects() -> None:
    result = Validator().validate(list(BAD_LINES), NOW)
    assert result.accepted == 0
    assert len(result.rejections) == len(BAD_LINES)
    model = ReadingModel(50, bad_line_rate=0.5, seed=3)
    lines = [line for t in range(4) for line in model.tick(NOW, float(t))]
    assert 40 < sum(line in BAD_LINES for line in lines) < 160


def test_driver_sim_streams_to_a_mutual_tls_client(tmp_path: Path, pki, run_async) -> None:  # type: ignore[no-untyped-def]
    from powerwatch_gateway.driver_sim import build_parser, serve
    from powerwatch_gateway.tls import client_context

    args = build_parser().parse_args(
        ["--port", "0", "--port-file", str(tmp_path / "port"), "--ca", str(pki.ca),
         "--cert", str(pki.server.cert), "--key", str(pki.server.key),
         "--devices", "3", "--rate", "50", "--count", "4", "--wait-for-client"]
    )  # fmt: skip

    async def scenario() -> bytes:
        server = asyncio.create_task(serve(args))
        port_file = tmp_path / "port"
        while not (port_file.exists() and port_file.read_text()):  # noqa: ASYNC110 - a file, not an event
            await asyncio.sleep(0.02)
        context = client_context(pki.ca, pki.client.cert, pki.client.key)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1",
            int((tmp_path / "port").read_text()),
            ssl=context,
            server_hostname="127.0.0.1",
        )
        data = await asyncio.wait_for(reader.read(), 15)  # until the sim closes after --count
        writer.close()
        assert await asyncio.wait_for(server, 15) == 0
        return data

    lines = run_async(scenario()).splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 12
    assert {decode(line).device_id for line in lines} == {"drv-01", "drv-02", "drv-03"}
