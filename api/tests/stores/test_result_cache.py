"""The local store's result cache: the same answers as no cache, whatever ingestion does.

Everything is real: one LocalKusto holding the data, two LocalStores over it (one with the
cache, one without), the API's own stored queries. The property test interleaves
ingestion (including late readings into days the cache already holds) with every kind of
call and checks that both stores answer alike; the other tests pin the cache's
mechanics: fetch sharing, the stale-fetch race, eviction, oversized days, detaching.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from powerwatch_api import queries
from powerwatch_api.stores.base import ParamValue, Row
from powerwatch_api.stores.extents import SPLITS, EventsSplit
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
DEVICES = ("d-a", "d-b")


def record(device: str, second: int, over: bool, copy: int = 0) -> dict[str, Any]:
    """A gateway record DAY0 + second; copies share the instant with another id."""
    ts = (DAY0 + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
    return {
        "reading_id": f"{device}-{second}-{copy}",
        "device_id": device,
        "ts": ts,
        "voltage": 230.0,
        "current": 30.0 if over else 4.0,  # 6900 W or 920 W: exact sums
        "seq": second * 3 + copy,
        "received_at": ts,
    }


def events_params(
    device: str, start: datetime, end: datetime, rows: int, after: tuple[datetime, str] | None
) -> dict[str, ParamValue]:
    return {
        "fromTime": start,
        "toTime": end,
        "deviceId": device,
        "maxRows": rows,
        "afterTime": after[0] if after else None,
        "afterReadingId": after[1] if after else "",
    }


def series_params(
    device: str, start: datetime, end: datetime, bin_size: timedelta
) -> dict[str, ParamValue]:
    return {"deviceId": device, "fromTime": start, "toTime": end, "binSize": bin_size}


class Pair:
    """A cached and an uncached store over one engine."""

    def __init__(self, engine: LocalKusto, now: datetime, cache_rows: int) -> None:
        self.engine = engine
        self.cached = LocalStore(engine=engine, cache_rows=cache_rows, clock=lambda: now)
        self.plain = LocalStore(engine=engine, cache_rows=0)

    async def both(
        self, query: queries.StoredQuery, params: dict[str, ParamValue]
    ) -> tuple[list[Row], list[Row]]:
        cached = await self.cached.run(query, params, request_id="c")
        plain = await self.plain.run(query, params, request_id="p")
        return cached, plain


def run_with_pair(now: datetime, cache_rows: int, body: Callable[[Pair], Awaitable[None]]) -> None:
    engine = LocalKusto()

    async def go() -> None:
        pair = Pair(engine, now, cache_rows)
        await pair.cached.open()
        await pair.plain.open()
        try:
            await body(pair)
        finally:
            await pair.cached.close()
            await pair.plain.close()

    try:
        anyio.run(go)
    finally:
        engine.close()


# Seconds since DAY0 over three days, often right at a day boundary.
seconds = st.one_of(
    st.integers(0, 3 * 86_400 - 1),
    st.sampled_from([0, 1, 86_399, 86_400, 86_401, 172_799, 172_800, 172_801]),
    st.integers(86_340, 86_460),
)
readings = st.lists(
    st.tuples(st.sampled_from(DEVICES), seconds, st.booleans(), st.integers(0, 2)),
    min_size=1,
    max_size=30,
)
windows = st.tuples(seconds, seconds).map(sorted)
bins = st.sampled_from(
    [timedelta(minutes=1), timedelta(minutes=5), timedelta(hours=1), DAY, timedelta(minutes=7)]
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("ingest"), readings),
        st.tuples(
            st.just("events"),
            st.sampled_from((*DEVICES, "")),
            windows,
            st.integers(1, 6),
        ),
        st.tuples(st.just("series"), st.sampled_from(DEVICES), windows, bins, st.booleans()),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    first=readings,
    ops=operations,
    # Day 1 still being written, every day closed, or long after.
    now_offset=st.sampled_from([DAY + DAY / 2, 2 * DAY + DAY / 3, 30 * DAY]),
    cache_rows=st.sampled_from([8, 100_000]),
)
def test_cached_answers_equal_uncached_answers_while_ingesting(
    first: list[tuple[str, int, bool, int]],
    ops: list[tuple[Any, ...]],
    now_offset: timedelta,
    cache_rows: int,
) -> None:
    async def body(pair: Pair) -> None:
        await anyio.to_thread.run_sync(pair.engine.ingest, [record(*r) for r in first])
        for op in ops:
            if op[0] == "ingest":
                await anyio.to_thread.run_sync(pair.engine.ingest, [record(*r) for r in op[1]])
            elif op[0] == "events":
                _, device, (a, b), rows = op
                start, end = DAY0 + timedelta(seconds=a), DAY0 + timedelta(seconds=b + 1)
                after: tuple[datetime, str] | None = None
                for _page in range(20):  # walk every page with the keyset cursor
                    params = events_params(device, start, end, rows, after)
                    cached, plain = await pair.both(queries.CRITICAL_EVENTS, params)
                    assert cached == plain, params
                    if len(plain) < rows:
                        break
                    after = (plain[-1]["Timestamp"], plain[-1]["ReadingId"])
            else:
                _, device, (a, b), bin_size, aligned = op
                start, end = DAY0 + timedelta(seconds=a), DAY0 + timedelta(seconds=b)
                if aligned:  # what the API sends: whole bins
                    start = DAY0 + (start - DAY0) // bin_size * bin_size
                    end = DAY0 + -(-(end - DAY0) // bin_size) * bin_size
                params = series_params(device, start, end, bin_size)
                cached, plain = await pair.both(queries.POWER_SERIES, params)
                assert cached == plain, params

    run_with_pair(DAY0 + now_offset, cache_rows, body)


def surge(device: str, day: int, count: int = 3) -> list[dict[str, Any]]:
    return [record(device, day * 86_400 + 600 + i, True) for i in range(count)]


def first_hour(device: str, day: int) -> dict[str, ParamValue]:
    start = DAY0 + day * DAY
    return events_params(device, start, start + timedelta(hours=1), 10, None)


AFTER_ALL = DAY0 + 10 * DAY


async def day0(store: LocalStore) -> list[Row]:
    return await store.run(queries.CRITICAL_EVENTS, first_hour("d-a", 0), request_id="r")


def test_a_closed_day_is_fetched_once_then_cut_from_memory() -> None:
    async def body(pair: Pair) -> None:
        pair.engine.ingest(surge("d-a", 0) + surge("d-a", 1))
        for _ in range(3):
            cached, plain = await pair.both(queries.CRITICAL_EVENTS, first_hour("d-a", 0))
            assert cached == plain
            assert len(cached) == 3
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.hits, stats.entries, stats.rows) == (1, 2, 1, 3)
        # Ingestion into another day leaves day 0 kept; into day 0 drops it.
        pair.engine.ingest(surge("d-a", 1, count=5))
        assert pair.cached.cache.stats().entries == 1  # type: ignore[union-attr]
        pair.engine.ingest([record("d-a", 620, True)])
        cached, plain = await pair.both(queries.CRITICAL_EVENTS, first_hour("d-a", 0))
        assert cached == plain
        assert len(cached) == 4
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.invalidated) == (2, 1)

    run_with_pair(AFTER_ALL, 1000, body)


def test_an_open_day_is_always_asked_directly() -> None:
    async def body(pair: Pair) -> None:
        pair.engine.ingest(surge("d-a", 0))
        for _ in range(2):
            cached, plain = await pair.both(queries.CRITICAL_EVENTS, first_hour("d-a", 0))
            assert cached == plain
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.direct, stats.entries) == (0, 2, 0)

    run_with_pair(DAY0 + timedelta(hours=20), 1000, body)


class Gate:
    """Holds the engine's next N queries after they ran (their snapshot is taken) until
    released: a fetch that is slow to come back."""

    def __init__(self, engine: LocalKusto, hold: int) -> None:
        self.original = engine.query
        self.hold = hold
        self.calls = 0
        self.released = threading.Event()
        self.lock = threading.Lock()
        engine.query = self  # type: ignore[method-assign,assignment]

    def __call__(self, text: str, values: Any = None) -> Any:
        result = self.original(text, values)
        with self.lock:
            self.calls += 1
            held = self.calls <= self.hold
        if held:
            self.released.wait(10)
        return result


def test_concurrent_calls_for_one_day_share_one_fetch() -> None:
    async def body(pair: Pair) -> None:
        pair.engine.ingest(surge("d-a", 0))
        gate = Gate(pair.engine, hold=1)
        answers: list[list[Row]] = []

        async def ask() -> None:
            answers.append(await day0(pair.cached))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(ask)
            await anyio.sleep(0.3)
            assert gate.calls == 1  # one fetch, held; the other four wait for it
            gate.released.set()
        assert len(answers) == 5
        assert all(a == answers[0] and len(a) == 3 for a in answers)
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.shared, stats.hits) == (1, 4, 0)

    run_with_pair(AFTER_ALL, 1000, body)


def test_a_fetch_overtaken_by_a_commit_is_not_kept() -> None:
    # The fetch reads day 0 (3 events), then a commit adds a 4th event to day 0 before the
    # fetch hands its rows back. Calls after the commit must see 4, never the kept 3.
    async def body(pair: Pair) -> None:
        pair.engine.ingest(surge("d-a", 0))
        gate = Gate(pair.engine, hold=1)
        first: list[list[Row]] = []

        async def ask_first() -> None:
            first.append(await day0(pair.cached))

        async with anyio.create_task_group() as group:
            group.start_soon(ask_first)
            await anyio.sleep(0.3)
            assert gate.calls == 1  # its snapshot is taken: 3 events
            await anyio.to_thread.run_sync(pair.engine.ingest, [record("d-a", 700, True)])
            # Arriving after the commit, while the stale fetch still runs: a new fetch.
            during = await day0(pair.cached)
            assert len(during) == 4
            gate.released.set()
        assert len(first[0]) == 3  # a snapshot from before the commit, as asked
        later = await day0(pair.cached)
        assert len(later) == 4
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert stats.invalidated == 1
        assert stats.fills == 2

    run_with_pair(AFTER_ALL, 1000, body)


def test_the_row_budget_drops_the_least_recently_used_day() -> None:
    days = (("d-a", 0), ("d-a", 1), ("d-a", 2), ("d-b", 0), ("d-b", 1))

    async def body(pair: Pair) -> None:
        pair.engine.ingest([r for device, day in days for r in surge(device, day, 3)])
        # 12 rows: four 3-row days. The fifth drops the least recently used (d-a day 0);
        # d-a day 1 is still kept, d-a day 0 is fetched again.
        for device, day in (*days, ("d-a", 1), ("d-a", 0)):
            cached, plain = await pair.both(queries.CRITICAL_EVENTS, first_hour(device, day))
            assert cached == plain
            assert len(cached) == 3
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.hits, stats.evicted, stats.rows) == (6, 1, 2, 12)

    run_with_pair(AFTER_ALL, 12, body)


def test_a_day_with_more_events_than_a_fetch_may_return_is_asked_in_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    split = SPLITS[queries.CRITICAL_EVENTS.name]
    assert isinstance(split, EventsSplit)
    monkeypatch.setattr(split, "max_extent_rows", 4)

    async def body(pair: Pair) -> None:
        pair.engine.ingest(surge("d-a", 0, 6) + surge("d-a", 1, 2))
        params = events_params("d-a", DAY0, DAY0 + 2 * DAY, 5, None)
        cached, plain = await pair.both(queries.CRITICAL_EVENTS, params)
        assert cached == plain
        assert len(cached) == 5  # 2 from day 1 (kept), 3 from day 0 (too big: direct)
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.entries, stats.direct) == (2, 1, 1)
        # Day 0 is remembered as too big: asked directly again, not fetched whole again.
        cached, plain = await pair.both(queries.CRITICAL_EVENTS, params)
        assert cached == plain
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.hits, stats.direct) == (2, 1, 2)

    run_with_pair(AFTER_ALL, 1000, body)


def test_a_closed_store_stops_listening_to_the_engine() -> None:
    engine = LocalKusto()
    store = LocalStore(engine=engine, cache_rows=100)

    async def go() -> None:
        await store.open()
        await store.close()

    try:
        anyio.run(go)
        assert engine._commit_listeners == []
        assert store.cache is None
    finally:
        engine.close()


def test_calls_that_do_not_split_are_asked_directly() -> None:
    async def body(pair: Pair) -> None:
        pair.engine.ingest(surge("d-a", 0))
        params: dict[str, ParamValue] = {
            "fromTime": DAY0,
            "toTime": DAY0 + DAY,
            "deviceId": "d-a",
            "maxRows": 10,
        }
        cached, plain = await pair.both(queries.POWER_INCIDENTS, params)
        assert cached == plain
        assert len(cached) == 1
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        assert (stats.fills, stats.hits, stats.direct) == (0, 0, 0)

    run_with_pair(AFTER_ALL, 1000, body)


def test_a_day_over_a_quarter_of_the_budget_is_used_once_then_asked_in_pieces() -> None:
    async def body(pair: Pair) -> None:
        pair.engine.ingest(surge("d-a", 0, 3))
        for _ in range(2):
            cached, plain = await pair.both(queries.CRITICAL_EVENTS, first_hour("d-a", 0))
            assert cached == plain
            assert len(cached) == 3
        stats = pair.cached.cache.stats()  # type: ignore[union-attr]
        # 3 rows > 8 // 4: the first call used the fetched day, the second asked directly.
        assert (stats.fills, stats.entries, stats.direct) == (1, 0, 1)

    run_with_pair(AFTER_ALL, 8, body)
