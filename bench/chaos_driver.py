"""The Driver side of the chaos run: adversarial lines, and a faulty link to the gateway.

`ChaosLink` sits between the real driver-sim and the gateway, TLS 1.3 with mutual
authentication on both sides (the dev certificates of `make up`): it reads driver-sim's
readings and forwards them, and on command drops the connection at a byte offset
(mid-line included), goes silent, or mixes bursts of adversarial lines into the stream.
It records the fate of every reading and adversarial line, so the account can tell
"durable", "not received" and "lost" apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
from powerwatch_gateway.model import reading_id
from powerwatch_gateway.settings import Settings
from powerwatch_gateway.validation import Reason, Validator

TAG = re.compile(r"chaos(\d+)x")
STALLED = -2  # incarnation of what was in a write the gateway never read
MAX_LINE_BYTES = Settings.max_line_bytes  # the gateway's default GATEWAY_MAX_LINE_BYTES

# One template per rejection reason of docs/protocol.md (incomplete_line comes from the
# link's mid-line drops). {tag} makes each line findable in the dead-letter file.
_TS = "2026-11-25T18:00:00Z"
_TEMPLATES: dict[Reason, str] = {
    Reason.NOT_JSON: '{{"device_id":"{tag}", oops',
    Reason.NOT_FINITE: '{{"device_id":"{tag}","ts":"' + _TS + '","voltage":NaN,"current":1}}',
    Reason.NOT_AN_OBJECT: '["{tag}", 230.0]',
    Reason.MISSING_FIELD: '{{"device_id":"{tag}","ts":"' + _TS + '","current":1.0}}',
    Reason.UNKNOWN_FIELD: (
        '{{"device_id":"{tag}","ts":"' + _TS + '","voltage":230.0,"current":1.0,"power":230}}'
    ),
    Reason.WRONG_TYPE: '{{"device_id":"{tag}","ts":"' + _TS + '","voltage":"230","current":1}}',
    Reason.BAD_DEVICE_ID: '{{"device_id":"{tag} x","ts":"' + _TS + '","voltage":1,"current":1}}',
    Reason.BAD_TIMESTAMP: '{{"device_id":"{tag}","ts":"yesterday","voltage":1,"current":1}}',
    Reason.VOLTAGE_OUT_OF_RANGE: (
        '{{"device_id":"{tag}","ts":"' + _TS + '","voltage":1000.5,"current":1}}'
    ),
    Reason.CURRENT_OUT_OF_RANGE: (
        '{{"device_id":"{tag}","ts":"' + _TS + '","voltage":230,"current":-0.1}}'
    ),
    Reason.SEQ_OUT_OF_RANGE: (
        '{{"device_id":"{tag}","ts":"' + _TS + '","voltage":230,"current":1,"seq":-1}}'
    ),
    Reason.TS_IN_FUTURE: '{{"device_id":"{tag}","ts":"{future}","voltage":230,"current":1}}',
    Reason.TS_TOO_OLD: '{{"device_id":"{tag}","ts":"1999-12-31T23:59:59Z","voltage":1,"current":0}}',  # noqa: E501
}


def adversarial_lines(count: int, rng: random.Random) -> list[tuple[bytes, Reason]]:
    """`count` bad lines, reasons drawn by `rng`, each tagged `chaos<n>x`. Every line is
    checked against the gateway's own Validator first, so the expected reason is the
    one the gateway gives (a wrong template fails here, not in the account)."""
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reasons = [*_TEMPLATES, Reason.BAD_UTF8, Reason.LINE_TOO_LONG]
    lines: list[tuple[bytes, Reason]] = []
    for n in range(count):
        reason = rng.choice(reasons)
        tag = f"chaos{n}x"
        if reason is Reason.BAD_UTF8:
            line = b'{"device_id":"' + tag.encode() + b'\xff\xfe","voltage":1}'
        elif reason is Reason.LINE_TOO_LONG:
            line = tag.encode() + b"a" * (MAX_LINE_BYTES + rng.randrange(1, 2000))
        else:
            line = _TEMPLATES[reason].format(tag=tag, future=future).encode()
        lines.append((line, reason))
    _check_reasons(lines)
    return lines


def _check_reasons(lines: list[tuple[bytes, Reason]]) -> None:
    validator = Validator()
    checked = [(line, reason) for line, reason in lines if reason is not Reason.LINE_TOO_LONG]
    result = validator.validate([line for line, _ in checked], datetime.now(UTC))
    got = [r.reason for r in result.rejections]
    if result.accepted or got != [reason for _, reason in checked]:
        raise RuntimeError("an adversarial template is not rejected with its own reason")


@dataclass
class Connection:
    """One gateway connection, tagged with the gateway process that opened it."""

    incarnation: int
    writer: asyncio.StreamWriter
    opened_at: float
    closed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Fates:
    """What happened to every reading and adversarial line the link handled."""

    reading: dict[str, tuple[str, int, float]] = field(default_factory=dict)  # id -> fate
    cut_prefixes: dict[str, tuple[str, int, float]] = field(default_factory=dict)
    adversarial_sent: dict[int, tuple[int, float]] = field(default_factory=dict)
    duplicate_emissions: int = 0
    drops_mid_line: int = 0
    drops_at_boundary: int = 0
    silences: int = 0
    stalled_writes: int = 0
    upstream_reconnects: int = 0
    connections: int = 0


class ChaosLink:
    """driver-sim -> (faults) -> gateway, both hops TLS 1.3 with mutual auth."""

    def __init__(
        self,
        upstream_port: int,
        client_tls: ssl.SSLContext,
        server_tls: ssl.SSLContext,
        adversarial: list[tuple[bytes, Reason]],
        incarnation: Callable[[], int],
        rng: random.Random,
    ) -> None:
        self._upstream_port = upstream_port
        self._client_tls = client_tls
        self._server_tls = server_tls
        self.adversarial = adversarial
        self._next_adversarial = 0
        self._incarnation = incarnation
        self._rng = rng
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.conn: Connection | None = None
        self.fates = Fates()
        self.new_connection = asyncio.Event()
        self._pending_burst = 0
        self._drops_requested = 0
        self.last_cut: Connection | None = None
        self.silent_until = 0.0
        self.last_sent_at = 0.0
        self._stopping = False
        self.server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(
            self._accept, "127.0.0.1", 0, ssl=self._server_tls, ssl_handshake_timeout=10
        )
        self._tasks = [
            asyncio.create_task(self._read_upstream()),
            asyncio.create_task(self._forward()),
        ]
        return int(self.server.sockets[0].getsockname()[1])

    # -- faults ----------------------------------------------------------------------
    def drop(self) -> None:
        """Cut the connection inside the next reading, at a random byte offset."""
        self._drops_requested += 1

    def silence(self, seconds: float) -> None:
        self.fates.silences += 1
        self.silent_until = time.monotonic() + seconds

    def burst(self, lines: int) -> None:
        self._pending_burst += lines

    @property
    def adversarial_left(self) -> int:
        return len(self.adversarial) - self._next_adversarial

    # -- upstream: driver-sim ----------------------------------------------------------
    async def _read_upstream(self) -> None:
        while not self._stopping:
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", self._upstream_port, ssl=self._client_tls,
                    server_hostname="127.0.0.1",
                )  # fmt: skip
            except OSError:
                await asyncio.sleep(0.2)
                continue
            try:
                while line := await reader.readline():
                    if self._stopping:
                        break
                    self._queue.put_nowait(line)
            except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
                pass
            finally:
                writer.close()
            if not self._stopping:
                self.fates.upstream_reconnects += 1

    async def stop_upstream(self) -> None:
        """Stop taking readings from driver-sim; forward what is queued."""
        self._stopping = True
        self._tasks[0].cancel()
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._tasks[1]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.conn is not None:
            self.conn.writer.close()
        if self.server is not None:
            self.server.close()

    # -- downstream: the gateway ---------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.conn is not None and not self.conn.closed.is_set():
            self.conn.writer.close()
            self.conn.closed.set()
        conn = Connection(self._incarnation(), writer, time.monotonic())
        self.conn = conn
        self.fates.connections += 1
        self.new_connection.set()
        try:
            while await reader.read(4096):
                pass  # the gateway never sends application data
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.closed.set()
            writer.close()

    def _record(self, rid: str, fate: str, incarnation: int) -> None:
        if rid in self.fates.reading:
            self.fates.duplicate_emissions += 1
        self.fates.reading[rid] = (fate, incarnation, time.monotonic())

    async def _forward(self) -> None:
        while (line := await self._queue.get()) is not None:
            record = msgspec.json.decode(line)
            ts = datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))
            rid = reading_id(record["device_id"], ts, record.get("seq"))
            conn = self.conn
            if time.monotonic() < self.silent_until:
                self._record(rid, "silenced", -1)
            elif conn is None:
                self._record(rid, "before_gateway_started", -1)
            elif conn.closed.is_set():
                self._record(rid, "no_gateway", -1)
            elif self._drops_requested:
                self._drops_requested -= 1
                await self._cut(conn, line, rid)
            else:
                await self._send(conn, line, rid)

    async def _cut(self, conn: Connection, line: bytes, rid: str) -> None:
        offset = self._rng.randrange(len(line))  # 0 = at the boundary, else mid-line
        self.last_cut = conn
        if offset:
            self.fates.drops_mid_line += 1
            self.fates.cut_prefixes[line[:offset].decode()] = (
                rid, conn.incarnation, time.monotonic(),
            )  # fmt: skip
            self._record(rid, "cut", conn.incarnation)
        else:
            self.fates.drops_at_boundary += 1
            self._record(rid, "no_gateway", -1)
        # A clean close (close_notify + FIN): the prefix reaches the gateway as a stream
        # that ends inside a line. An abort (RST) could discard bytes it has not read yet.
        with contextlib.suppress(OSError, TimeoutError):
            conn.writer.write(line[:offset])
            await asyncio.wait_for(conn.writer.drain(), 10)
        conn.writer.close()
        conn.closed.set()

    async def _send(self, conn: Connection, line: bytes, rid: str) -> None:
        parts = []
        burst: list[int] = []
        now = time.monotonic()
        while self._pending_burst and self._next_adversarial < len(self.adversarial):
            n = self._next_adversarial
            parts.append(self.adversarial[n][0] + b"\n")
            self.fates.adversarial_sent[n] = (conn.incarnation, now)
            burst.append(n)
            self._next_adversarial += 1
            self._pending_burst -= 1
        parts.append(line)
        self._record(rid, "sent", conn.incarnation)
        try:
            conn.writer.write(b"".join(parts))
            await asyncio.wait_for(conn.writer.drain(), 10)
            self.last_sent_at = time.monotonic()
        except (OSError, TimeoutError):
            # Like Driver: a client that does not read for 10 s is dropped. What was in
            # this write may not have arrived; it is counted apart ("stalled").
            self.fates.stalled_writes += 1
            self._record(rid, "stalled", STALLED)
            for n in burst:
                self.fates.adversarial_sent[n] = (STALLED, now)
            conn.writer.close()
            conn.closed.set()
