"""driver-sim: a Driver simulator. TLS 1.3 server with mutual authentication that
streams NDJSON readings to every connected gateway.

    driver-sim --ca ca.pem --cert driver.pem --key driver-key.pem --devices 10

Rate is readings per second per device (1 Hz like Driver by default; raise it
for load tests). Readings are generated live: a gateway that is not connected
misses them, exactly like with the real Driver.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

from powerwatch_gateway import log_setup
from powerwatch_gateway.readings_model import ReadingModel
from powerwatch_gateway.tls import server_context

log = structlog.get_logger("driver_sim")


class DriverSim:
    def __init__(self, model: ReadingModel, rate_hz: float, count: int | None = None) -> None:
        self.model = model
        self.rate = rate_hz
        self.count = count
        self.clients: set[asyncio.StreamWriter] = set()
        self.first_client = asyncio.Event()
        self.emitted = 0
        self.handshakes = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        tls = writer.get_extra_info("ssl_object")
        subject = dict(x[0] for x in tls.getpeercert().get("subject", ())) if tls else {}
        log.info(
            "client_connected",
            peer=str(peer),
            client=subject.get("commonName"),
            tls=tls.version() if tls else None,
        )
        self.handshakes += 1
        self.clients.add(writer)
        self.first_client.set()
        try:
            while await reader.read(4096):
                pass  # Driver ignores what clients send
        except (ConnectionError, OSError):
            pass
        finally:
            self.clients.discard(writer)
            writer.close()
            log.info("client_disconnected", peer=str(peer))

    async def emit(self, stop: asyncio.Event, wait_for_client: bool) -> None:
        if wait_for_client:
            await self.first_client.wait()
        start = time.monotonic()
        ticks = 0
        while not stop.is_set() and (self.count is None or ticks < self.count):
            due = int((time.monotonic() - start) * self.rate) + 1
            if self.count is not None:
                due = min(due, self.count)
            chunk: list[bytes] = []
            now = datetime.now(UTC)
            while ticks < due:
                chunk.extend(self.model.tick(now, ticks / self.rate))
                ticks += 1
            if chunk:
                await self._broadcast(b"\n".join(chunk) + b"\n")
                self.emitted += len(chunk)
            next_at = start + ticks / self.rate
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.001, next_at - time.monotonic()))

    async def _broadcast(self, data: bytes) -> None:
        for writer in list(self.clients):
            try:
                writer.write(data)
                await asyncio.wait_for(writer.drain(), timeout=10)
            except (ConnectionError, OSError, TimeoutError):
                self.clients.discard(writer)
                writer.close()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="driver-sim", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7000, help="TCP port, 0 = any free (default 7000)")
    p.add_argument("--port-file", type=Path, help="write the bound port here")
    p.add_argument(
        "--ca", type=Path, required=True, help="CA that signed the gateway's client certificate"
    )
    p.add_argument("--cert", type=Path, required=True, help="Driver's server certificate (PEM)")
    p.add_argument("--key", type=Path, required=True, help="its private key (PEM)")
    p.add_argument("--devices", type=int, default=10, help="number of devices (default 10)")
    p.add_argument(
        "--rate", type=float, default=1.0, help="readings per second per device (default 1)"
    )
    p.add_argument("--count", type=int, help="stop after this many readings per device")
    p.add_argument(
        "--surge-every", type=float, default=60.0, help="seconds between critical surges (0 = none)"
    )
    p.add_argument("--surge-seconds", type=float, default=5.0, help="length of a surge")
    p.add_argument(
        "--bad-line-rate", type=float, default=0.0, help="fraction of lines replaced by bad ones"
    )
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument(
        "--wait-for-client", action="store_true", help="start the clock at the first connection"
    )
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return p


async def serve(args: argparse.Namespace) -> int:
    model = ReadingModel(
        args.devices,
        seed=args.seed,
        surge_every_s=args.surge_every,
        surge_seconds=args.surge_seconds,
        bad_line_rate=args.bad_line_rate,
    )
    sim = DriverSim(model, args.rate, args.count)
    server = await asyncio.start_server(
        sim.handle,
        args.host,
        args.port,
        ssl=server_context(args.ca, args.cert, args.key),
        ssl_handshake_timeout=10,
    )
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        args.port_file.write_text(str(port), encoding="utf-8")
    log.info(
        "driver_sim_listening", host=args.host, port=port, devices=args.devices, rate_hz=args.rate
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await sim.emit(stop, args.wait_for_client)
    if not stop.is_set():  # --count reached: let clients read, then close
        await asyncio.sleep(0.2)
    for writer in list(sim.clients):
        writer.close()
    server.close()
    await server.wait_closed()
    log.info("driver_sim_stopped", emitted=sim.emitted)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("devices", "rate"):
        if getattr(args, name) <= 0:
            build_parser().error(f"--{name} must be > 0")
    log_setup.configure(args.log_level)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    raise SystemExit(main())
