"""ResultCache: whole-day answers of the splittable queries, kept until ingestion changes them.

The local store's answer to "one DuckDB query per request is the ceiling": a closed day
is asked for once, by calling the same stored function over the whole day, and every
later call cuts its window out of that answer (stores/extents.py says which calls and
how). It plays the part Azure Data Explorer's own query results cache plays for the
cluster, with one difference that makes it exact rather than "at most this old":
LocalKusto tells it which devices and days every committed batch touched
(LocalKusto.add_commit_listener), and those days are dropped before ingest() returns.

Consistency, step by step:
* a day still being written (its end is after the clock's now) is never kept: its pieces
  are asked for directly, as before;
* a fetch registers itself before it reads, so a commit that lands while it runs marks it
  stale: its answer goes to the calls already waiting for it (a snapshot from when they
  asked) and is not kept; a call that arrives after the commit starts a new fetch;
* writes that bypass LocalKusto.ingest (bench/bench_api.py filling a file before the
  server starts) are not seen: the cache starts empty when the store opens.

Bounded by rows (least recently used day dropped first). Runs on the event loop; only
invalidate() comes from another thread (ingestion), hence the lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from powerwatch_api.queries import StoredQuery
from powerwatch_api.stores.base import ParamValue, Row
from powerwatch_api.stores.extents import (
    EXTENT,
    Extent,
    Piece,
    Split,
    extent_start,
    instant,
    pieces,
)
from powerwatch_kusto import IngestResult

#: How many too-big days are remembered (a key each).
_MAX_OVERSIZED = 4096

#: (query name, device or "" for all, the split's key, extent start)
Key = tuple[str, str, Hashable, datetime]
#: Asks the store directly: the rows of the query for these parameters.
Fetch = Callable[[Mapping[str, ParamValue]], Awaitable[list[Row]]]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CacheStats:
    """Counters since the store opened (for tests, the benchmark and diagnostics)."""

    #: Pieces cut from a kept day.
    hits: int
    #: Whole-day fetches started.
    fills: int
    #: Pieces that waited for a fetch another call had started.
    shared: int
    #: Pieces asked for directly (an open day, or a day too big to keep).
    direct: int
    #: Kept days or running fetches dropped because a commit touched them.
    invalidated: int
    #: Kept days dropped to stay within the row budget.
    evicted: int
    entries: int
    rows: int


class ResultCache:
    def __init__(self, max_rows: int, clock: Clock = utc_now) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be positive")
        self._max_rows = max_rows
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, Extent] = OrderedDict()
        #: Kept days by (device, extent start), for invalidation without a full scan.
        self._slots: dict[tuple[str, datetime], set[Key]] = {}
        self._fills: dict[Key, asyncio.Task[Extent | None]] = {}
        #: Days too big to keep (see _fill), least recently marked first.
        self._oversized: OrderedDict[Key, None] = OrderedDict()
        self._rows = 0
        self._hits = self._fill_count = self._shared = self._direct = 0
        self._invalidated = self._evicted = 0

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self._hits,
                fills=self._fill_count,
                shared=self._shared,
                direct=self._direct,
                invalidated=self._invalidated,
                evicted=self._evicted,
                entries=len(self._entries),
                rows=self._rows,
            )

    async def answer(
        self, query: StoredQuery, split: Split, params: Mapping[str, ParamValue], fetch: Fetch
    ) -> list[Row]:
        """The query's answer for *params*, assembled from per-day pieces."""
        parts = pieces(instant(params, "fromTime"), instant(params, "toTime"))
        if not parts:
            return await fetch(params)  # an empty window: the function says what that gives
        if split.newest_first:
            parts.reverse()
        now = self._clock()
        rows: list[Row] = []
        for piece in parts:
            # A day still being written would be dropped again at the next commit.
            extent = None
            if piece.extent_end <= now:
                extent = await self._extent(query, split, params, piece, fetch)
            if extent is None:
                with self._lock:
                    self._direct += 1
                rows.extend(await fetch(split.piece_params(params, piece, len(rows))))
            else:
                rows.extend(split.cut(extent, params, piece, len(rows)))
            if split.complete(params, len(rows)):
                break
        return rows

    async def _extent(
        self,
        query: StoredQuery,
        split: Split,
        params: Mapping[str, ParamValue],
        piece: Piece,
        fetch: Fetch,
    ) -> Extent | None:
        """The whole day's answer: kept, being fetched, or fetched now (None: unusable)."""
        key: Key = (query.name, split.device(params), split.key(params), piece.extent)
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                self._entries.move_to_end(key)
                self._hits += 1
                return kept
            if key in self._oversized:
                return None
            running = self._fills.get(key)
            if running is None:
                self._fill_count += 1
                running = asyncio.ensure_future(
                    self._fill(key, split, split.extent_params(params, piece), fetch)
                )
                self._fills[key] = running
            else:
                self._shared += 1
        # Shielded: a caller that goes away does not cancel a fetch others wait for.
        return await asyncio.shield(running)

    async def _fill(
        self, key: Key, split: Split, params: Mapping[str, ParamValue], fetch: Fetch
    ) -> Extent | None:
        me = asyncio.current_task()
        try:
            rows = await fetch(params)
        except BaseException:
            with self._lock:
                if self._fills.get(key) is me:
                    del self._fills[key]
            raise
        capped = split.max_extent_rows is not None and len(rows) > split.max_extent_rows
        extent = None if capped else Extent(rows, split.keys(rows))
        # One lock section from "still ours?" to "kept": a commit between the two would
        # find nothing to drop and the stale day would stay.
        with self._lock:
            if self._fills.get(key) is me:  # else a commit overtook it: not kept
                del self._fills[key]
                if extent is not None and len(extent.rows) <= self._max_rows // 4:
                    self._keep(key, extent)
            if extent is None or len(extent.rows) > self._max_rows // 4:
                # A day only grows (ingestion adds rows, never removes them), so one that
                # is too big now stays too big: ask its pieces directly from now on.
                self._oversized[key] = None
                while len(self._oversized) > _MAX_OVERSIZED:
                    self._oversized.popitem(last=False)
        return extent

    def _keep(self, key: Key, extent: Extent) -> None:
        self._entries[key] = extent
        self._rows += len(extent.rows)
        self._slots.setdefault((key[1], key[3]), set()).add(key)
        while self._rows > self._max_rows:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self._evicted += 1

    def _drop(self, key: Key) -> None:
        extent = self._entries.pop(key)
        self._rows -= len(extent.rows)
        slot = (key[1], key[3])
        keys = self._slots[slot]
        keys.discard(key)
        if not keys:
            del self._slots[slot]

    def invalidate(self, batch: IngestResult) -> None:
        """Drop every kept day, and mark every running fetch, that *batch* changed.

        Called by LocalKusto after each commit, on the ingesting thread. A day is changed
        for a device when the batch stored a reading of that device inside it; answers for
        every device ("") change with any device's.
        """
        with self._lock:
            for device, (first, last) in batch.spans.items():
                day = extent_start(first)
                while day <= last:
                    for slot in ((device, day), ("", day)):
                        for key in list(self._slots.get(slot, ())):
                            self._drop(key)
                            self._invalidated += 1
                    day += EXTENT
                for key in [k for k in self._fills if k[1] in (device, "")]:
                    if extent_start(first) <= key[3] <= last:
                        del self._fills[key]
                        self._invalidated += 1
