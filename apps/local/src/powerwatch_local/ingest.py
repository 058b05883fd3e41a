"""Local ingestion: the gateway's spool directory -> LocalKusto, batch by batch.

The embedded stand-in for "Event Hubs -> ADX data connection -> update policy":

* the spool directory plays Event Hubs; this process is one named consumer of it
  (`<spool>/consumers/<name>.json` is its checkpoint, like an Event Hubs consumer
  group's checkpoint);
* each chunk of complete spool lines becomes ONE `LocalKusto.ingest` call: RawReadings
  and every update-policy target (PowerEvents, QuarantinedReadings) in one transaction;
* the checkpoint advances only after that transaction committed. A crash in between
  re-reads the chunk on restart, and LocalKusto skips the rows it already holds (same
  ReadingId): at least once in, exactly once stored.

Readings carry their own Timestamp, so a late or out-of-order reading is stored (and
detected) at the instant it was measured; the queries are by Timestamp.

    python -m powerwatch_local.ingest --spool .local/gateway/spool --database db.duckdb
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec
import structlog
from powerwatch_api.observability import configure_logging
from powerwatch_gateway.spool import SpoolReader
from powerwatch_kusto import IngestError, LocalKusto

log = structlog.get_logger("powerwatch_local.ingest")

DEFAULT_CONSUMER: Final = "local-ingest"
#: One chunk = one transaction. 1 MiB holds thousands of readings: a burst of 1,000
#: devices at 1 Hz is one commit, and one commit stays short.
DEFAULT_BATCH_BYTES: Final = 1 << 20
DEFAULT_POLL_S: Final = 0.02  # a stat + read of the active segment: cheap
_RETRY_MAX_S: Final = 5.0

_decoder = msgspec.json.Decoder()


@dataclass
class IngestStats:
    """Running totals of one ingestor (this process's life only)."""

    batches: int = 0
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    events: int = 0
    quarantined: int = 0
    rejected_lines: int = 0
    failures: int = 0
    #: Batches stored while a non-transactional update policy failed on them (that
    #: policy's target misses the batch; ADX's `.show ingestion failures`).
    policy_failures: int = 0
    last_commit_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Rejected:
    """A spool line that is not a JSON object: kept aside with its reason."""

    line: bytes
    reason: str


def decode_lines(lines: Sequence[bytes]) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """Spool lines -> record objects; anything else is set aside, never ingested."""
    records: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for line in lines:
        if not line.strip():
            continue
        try:
            value = _decoder.decode(line)
        except msgspec.DecodeError as error:
            rejected.append(Rejected(line, f"not JSON: {error}"))
            continue
        if not isinstance(value, dict):
            rejected.append(Rejected(line, f"not a JSON object but {type(value).__name__}"))
            continue
        records.append(value)
    return records, rejected


@dataclass
class SpoolIngestor:
    """Moves what the gateway spooled into LocalKusto, one committed batch at a time."""

    spool_dir: Path
    engine: LocalKusto
    consumer: str = DEFAULT_CONSUMER
    batch_bytes: int = DEFAULT_BATCH_BYTES
    #: Lines that are not JSON objects go here (NDJSON: reason + raw text), not lost.
    rejected_file: Path | None = None
    stats: IngestStats = field(default_factory=IngestStats)

    def __post_init__(self) -> None:
        self.reader = SpoolReader(self.spool_dir, self.consumer)

    def step(self) -> int | None:
        """Ingest the next chunk. Returns the records in it, or None when caught up.

        Raises IngestError when the engine refused the batch: nothing was stored and the
        checkpoint did not move, so the same chunk is tried again next time.
        """
        chunk = self.reader.read(self.batch_bytes)
        if chunk is None:
            return None
        records, rejected = decode_lines(chunk.lines)
        if records:
            try:
                result = self.engine.ingest(records)
            except IngestError:
                self.stats.failures += 1  # the reader has not moved: the chunk comes again
                raise
            self.stats.stored += result.raw
            self.stats.duplicates += result.duplicates
            self.stats.events += result.events
            self.stats.quarantined += result.quarantined
            for target, reason in result.failures.items():
                self.stats.policy_failures += 1
                log.error("update_policy_failed", target=target, error=reason)
        if rejected:  # after the commit, so a refused batch's retries do not repeat them
            self._set_aside(rejected)
        # Only now, after the commit: at least once, never lost.
        self.reader.commit(chunk.end)
        self.stats.batches += 1
        self.stats.records += len(records)
        self.stats.last_commit_at = time.time()
        return len(records)

    def drain(self) -> int:
        """Ingest everything spooled so far; returns the number of records."""
        total = 0
        while (count := self.step()) is not None:
            total += count
        return total

    def run(self, stop: threading.Event, poll_s: float = DEFAULT_POLL_S) -> None:
        """Follow the spool until `stop` is set (poll when caught up, back off on errors)."""
        retry_s = poll_s
        while not stop.is_set():
            try:
                caught_up = self.step() is None
            except Exception as error:  # keep following: the API in this process stays up
                # IngestError (batch refused), or the spool/checkpoint unreadable: nothing
                # was acknowledged, so retrying the same chunk later loses nothing.
                log.error("ingest_step_failed", error=repr(error), retry_in_s=retry_s)
                stop.wait(retry_s)
                retry_s = min(retry_s * 2, _RETRY_MAX_S)
                continue
            retry_s = poll_s
            if caught_up:
                stop.wait(poll_s)

    def _set_aside(self, rejected: list[Rejected]) -> None:
        self.stats.rejected_lines += len(rejected)
        for item in rejected:
            raw = item.line[:200].decode(errors="replace")
            log.warning("spool_line_rejected", reason=item.reason, raw=raw)
        if self.rejected_file is None:
            return
        with self.rejected_file.open("ab") as handle:
            for item in rejected:
                handle.write(
                    msgspec.json.encode(
                        {"reason": item.reason, "raw": item.line.decode(errors="replace")}
                    )
                    + b"\n"
                )


class IngestThread:
    """A SpoolIngestor following the spool on a background thread (used by `serve`)."""

    def __init__(self, ingestor: SpoolIngestor, poll_s: float = DEFAULT_POLL_S) -> None:
        self.ingestor = ingestor
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=ingestor.run, args=(self._stop, poll_s), name="spool-ingest", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m powerwatch_local.ingest",
        description="Ingest the gateway's spool directory into the local engine (LocalKusto).",
    )
    add_ingest_arguments(parser)
    parser.add_argument("--once", action="store_true", help="ingest what is spooled now, then exit")
    return parser


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spool", type=Path, required=True, help="the gateway's spool directory")
    parser.add_argument(
        "--database", required=True, help="DuckDB file of the local engine (created if missing)"
    )
    parser.add_argument(
        "--consumer", default=DEFAULT_CONSUMER, help=f"consumer name (default {DEFAULT_CONSUMER})"
    )
    parser.add_argument(
        "--batch-bytes",
        type=int,
        default=DEFAULT_BATCH_BYTES,
        help="spool bytes per transaction (default 1 MiB)",
    )
    parser.add_argument(
        "--poll", type=float, default=DEFAULT_POLL_S, help="seconds between polls when caught up"
    )


def check_ingest_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.batch_bytes < 1024:
        parser.error("--batch-bytes must be at least 1024")
    if not 0.001 <= args.poll <= 60:
        parser.error("--poll must be between 0.001 and 60 seconds")
    if args.consumer in ("", ".", "..") or "/" in args.consumer:
        parser.error("--consumer must be a plain name")


def make_ingestor(args: argparse.Namespace, engine: LocalKusto) -> SpoolIngestor:
    """Ingestion may start before the gateway has created the spool: create its layout."""
    spool: Path = args.spool
    (spool / "segments").mkdir(parents=True, exist_ok=True)
    rejected = None if args.database == ":memory:" else Path(f"{args.database}.rejected.ndjson")
    return SpoolIngestor(
        spool, engine, consumer=args.consumer, batch_bytes=args.batch_bytes, rejected_file=rejected
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_ingest_arguments(parser, args)
    configure_logging("info")  # JSON lines on stdout, like the API
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with LocalKusto(database=args.database) as engine:
        ingestor = make_ingestor(args, engine)
        if args.once:
            ingestor.drain()
        else:
            log.info("ingest_started", spool=str(args.spool), database=args.database)
            ingestor.run(stop, args.poll)
    log.info("ingest_stopped", **ingestor.stats.as_dict())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
