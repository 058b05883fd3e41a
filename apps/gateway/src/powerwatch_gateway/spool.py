"""The durable spool: append-only NDJSON segment files on local disk.

Layout (docs/protocol.md is the contract for consumers)::

    <spool>/LOCK                         flock'd by the one writer
    <spool>/segments/<20 digits>.open    the active segment (at most one)
    <spool>/segments/<20 digits>.ndjson  sealed, never changed again
    <spool>/consumers/<name>.json        {"segment": N, "offset": BYTES}

The writer appends whole batches and fsyncs before returning, so a batch is
durable once `append` returns. Sealing renames `.open` to `.ndjson` atomically
(the number stays, so a reader's position survives the rename). After a crash
the writer cuts a torn tail of the `.open` segment (reporting it) and seals it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import msgspec
import structlog

from powerwatch_gateway.model import OutputRecord

log = structlog.get_logger(__name__)

OPEN_SUFFIX: Final = ".open"
SEALED_SUFFIX: Final = ".ndjson"
_NAME_DIGITS: Final = 20
_record_decoder = msgspec.json.Decoder(OutputRecord)


class SpoolError(RuntimeError):
    """The spool cannot be used (locked by another writer, unwritable)."""


def segment_name(number: int, suffix: str) -> str:
    return f"{number:0{_NAME_DIGITS}d}{suffix}"


def list_segments(segments_dir: Path) -> list[tuple[int, Path]]:
    """All segments, oldest first (the active one last)."""
    found = []
    for path in segments_dir.iterdir():
        stem, suffix = path.stem, path.suffix
        if suffix in (OPEN_SUFFIX, SEALED_SUFFIX) and stem.isdigit() and len(stem) == _NAME_DIGITS:
            found.append((int(stem), path))
    found.sort()
    return found


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a consumer is: the next unread byte of a segment."""

    segment: int
    offset: int


@dataclass(frozen=True, slots=True)
class Recovery:
    """What opening the spool found after an unclean stop."""

    segment: int
    kept_records: int
    dropped_bytes: int


def is_valid_record(line: bytes) -> bool:
    try:
        _record_decoder.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


class SpoolWriter:
    """The single writer of a spool directory."""

    def __init__(
        self, directory: Path, segment_max_bytes: int = 16 << 20, seal_after_s: float = 60.0
    ) -> None:
        self.directory = directory
        self.segments_dir = directory / "segments"
        self.consumers_dir = directory / "consumers"
        self._segment_max_bytes = segment_max_bytes
        self._seal_after_s = seal_after_s
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._active = 0
        self._active_bytes = 0
        self._active_records = 0
        self._active_since = 0.0
        self._next = 1
        self.recoveries: list[Recovery] = []

    # -- lifecycle -------------------------------------------------------------
    def open(self) -> None:
        for path in (self.directory, self.segments_dir, self.consumers_dir):
            path.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(lock_fd)
            raise SpoolError(f"{self.directory} is in use by another gateway") from exc
        self._lock_fd = lock_fd
        segments = list_segments(self.segments_dir)
        for number, path in segments:
            if path.suffix == OPEN_SUFFIX:
                self._recover(number, path)
        self._next = (segments[-1][0] + 1) if segments else 1

    def close(self) -> None:
        self.seal()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- writing ---------------------------------------------------------------
    def append(self, data: bytes) -> None:
        """Append complete NDJSON lines and make them durable before returning."""
        if not data:
            return
        fd = self._fd if self._fd is not None else self._start_segment()
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fdatasync(fd)
        except OSError:
            # A short write (disk full) left part of the batch: cut it, so the retry
            # appends the same bytes at the same offset and no record is glued to a
            # torn one. A reader that saw complete lines of it sees them again, unchanged.
            os.ftruncate(fd, self._active_bytes)
            raise
        self._active_bytes += len(data)
        self._active_records += data.count(b"\n")
        if self._active_bytes >= self._segment_max_bytes:
            self.seal()

    def seal_if_idle(self, now: float | None = None) -> None:
        """Seal a segment that has been open for a while, so readers see it final."""
        now = time.monotonic() if now is None else now
        if self._fd is not None and now - self._active_since >= self._seal_after_s:
            self.seal()

    def seal(self) -> None:
        if self._fd is None:
            return
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        src = self.segments_dir / segment_name(self._active, OPEN_SUFFIX)
        os.replace(src, src.with_suffix(SEALED_SUFFIX))
        fsync_dir(self.segments_dir)

    @property
    def active_records(self) -> int:
        return self._active_records if self._fd is not None else 0

    def prune(self) -> int:
        """Delete sealed segments that every registered consumer has passed."""
        positions = read_all_checkpoints(self.consumers_dir)
        if not positions:
            return 0  # nobody reads yet: keep everything (local mode before ingestion)
        oldest_needed = min(p.segment for p in positions)
        removed = 0
        for number, path in list_segments(self.segments_dir):
            if number < oldest_needed and path.suffix == SEALED_SUFFIX:
                path.unlink()
                removed += 1
        if removed:
            fsync_dir(self.segments_dir)
        return removed

    # -- internals -------------------------------------------------------------
    def _start_segment(self) -> int:
        self._active = self._next
        self._next += 1
        path = self.segments_dir / segment_name(self._active, OPEN_SUFFIX)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o640)
        fsync_dir(self.segments_dir)
        self._active_bytes = 0
        self._active_records = 0
        self._active_since = time.monotonic()
        return self._fd

    def _recover(self, number: int, path: Path) -> None:
        data = path.read_bytes()
        end = data.rfind(b"\n") + 1  # a trailing record without newline was torn
        # The last append may also have left whole-looking garbage lines (power
        # loss): drop invalid lines from the end back to the last valid one.
        while end > 0:
            start = data.rfind(b"\n", 0, end - 1) + 1
            if is_valid_record(data[start : end - 1]):
                break
            end = start
        dropped = len(data) - end
        if dropped:
            with path.open("r+b") as handle:
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(path, path.with_suffix(SEALED_SUFFIX))
        fsync_dir(self.segments_dir)
        recovery = Recovery(number, data.count(b"\n", 0, end), dropped)
        self.recoveries.append(recovery)
        log.warning(
            "spool_recovered_open_segment",
            segment=number,
            kept_records=recovery.kept_records,
            dropped_tail_bytes=dropped,
        )


# -- consumers -----------------------------------------------------------------
_checkpoint_decoder = msgspec.json.Decoder(dict[str, int])


def read_checkpoint(path: Path) -> Position | None:
    try:
        raw = _checkpoint_decoder.decode(path.read_bytes())
        return Position(raw["segment"], raw["offset"])
    except FileNotFoundError:
        return None
    except (msgspec.DecodeError, KeyError) as exc:
        raise SpoolError(f"unreadable consumer checkpoint {path}: {exc}") from exc


def read_all_checkpoints(consumers_dir: Path) -> list[Position]:
    positions = []
    for path in sorted(consumers_dir.glob("*.json")):
        position = read_checkpoint(path)
        if position is not None:
            positions.append(position)
    return positions


def write_checkpoint(path: Path, position: Position) -> None:
    """Atomically replace the checkpoint: write a temp file, fsync, rename, fsync dir."""
    tmp = path.with_suffix(".tmp")
    payload = msgspec.json.encode({"segment": position.segment, "offset": position.offset})
    with tmp.open("wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Complete lines read from one segment and the position after them."""

    data: bytes  # whole lines, each ending in a newline
    end: Position

    @property
    def lines(self) -> list[bytes]:
        return self.data[:-1].split(b"\n")


class SpoolReader:
    """Reads a spool in order from a named consumer's checkpoint.

    Only complete lines are returned, so a reader may safely follow the active
    `.open` segment while the writer appends to it.
    """

    def __init__(self, directory: Path, consumer: str) -> None:
        self.segments_dir = directory / "segments"
        self.checkpoint_path = directory / "consumers" / f"{consumer}.json"
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        self.position = read_checkpoint(self.checkpoint_path) or Position(0, 0)

    def read(self, max_bytes: int = 1 << 20) -> Chunk | None:
        """Next complete lines (up to about max_bytes), or None when caught up."""
        while True:
            found = self._locate(self.position.segment)
            if found is None:
                return None
            number, path = found
            if number != self.position.segment:
                self.position = Position(number, 0)
            data = _read_at(path, self.position.offset, max_bytes)
            if data is None:  # sealed and renamed/pruned between listing and open
                continue
            end = data.rfind(b"\n") + 1
            if end == 0 and len(data) >= max_bytes:
                data = _read_at(path, self.position.offset, None) or b""
                end = data.rfind(b"\n") + 1
            if end:
                return Chunk(data[:end], Position(number, self.position.offset + end))
            if path.suffix == OPEN_SUFFIX and path.exists():
                return None  # the writer is still appending here
            if data:
                log.warning("spool_segment_torn_tail_skipped", segment=number, bytes=len(data))
            self.position = Position(number + 1, 0)

    def commit(self, position: Position) -> None:
        """Acknowledge everything before `position` (durably)."""
        write_checkpoint(self.checkpoint_path, position)
        self.position = position

    def iter_records(self) -> Iterator[bytes]:
        """Every complete line from the current position on, without committing."""
        while (chunk := self.read()) is not None:
            yield from chunk.lines
            self.position = chunk.end

    def _locate(self, wanted: int) -> tuple[int, Path] | None:
        """The segment `wanted`, else the first one after it (older ones pruned)."""
        for suffix in (SEALED_SUFFIX, OPEN_SUFFIX, SEALED_SUFFIX):
            path = self.segments_dir / segment_name(wanted, suffix)
            if path.exists():
                return wanted, path
        for number, path in list_segments(self.segments_dir):
            if number > wanted:
                return number, path
        return None


def _read_at(path: Path, offset: int, max_bytes: int | None) -> bytes | None:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read() if max_bytes is None else handle.read(max_bytes)
    except FileNotFoundError:
        return None


@dataclass(frozen=True, slots=True)
class Depth:
    records: int
    bytes: int
    segments: int


class DepthGauge:
    """Records not yet read by the slowest consumer (all of them if none).

    Sealed segments are immutable, so their line counts are cached.
    """

    def __init__(self, directory: Path) -> None:
        self.segments_dir = directory / "segments"
        self.consumers_dir = directory / "consumers"
        self._sealed_counts: dict[int, int] = {}

    def measure(self) -> Depth:
        positions = read_all_checkpoints(self.consumers_dir)
        start = min(positions, key=lambda p: (p.segment, p.offset)) if positions else Position(0, 0)
        records = total_bytes = segments = 0
        present = list_segments(self.segments_dir)
        for gone in self._sealed_counts.keys() - {number for number, _ in present}:
            del self._sealed_counts[gone]  # pruned: forget its cached count
        for number, path in present:
            if number < start.segment:
                continue
            offset = start.offset if number == start.segment else 0
            with contextlib.suppress(FileNotFoundError):
                if path.suffix == SEALED_SUFFIX and offset == 0:
                    if number not in self._sealed_counts:
                        self._sealed_counts[number] = path.read_bytes().count(b"\n")
                    count, size = self._sealed_counts[number], path.stat().st_size
                else:
                    data = _read_at(path, offset, None) or b""
                    count, size = data.count(b"\n"), len(data)
                records += count
                total_bytes += size
                segments += 1
        return Depth(records, total_bytes, segments)
