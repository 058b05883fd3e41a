"""LocalStore: its own engine runs lean for many small queries, bounded in concurrency."""

from __future__ import annotations

import gc
import sys
import threading
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from powerwatch_api import queries
from powerwatch_api.queries import StoredQuery
from powerwatch_api.stores import local
from powerwatch_api.stores.base import ParamValue, StoreQueryError
from powerwatch_api.stores.local import LocalStore


def test_queries_run_in_bounded_threads_on_a_single_threaded_engine() -> None:
    seen: set[str] = set()
    peak = [0]
    active = [0]
    lock = threading.Lock()

    async def go() -> list[int]:
        store = LocalStore()
        await store.open()
        try:
            engine = store.engine
            original = engine.query

            def tracking(text: str, values: object) -> object:
                with lock:
                    active[0] += 1
                    peak[0] = max(peak[0], active[0])
                    seen.add(threading.current_thread().name)
                try:
                    return original(text, values)  # type: ignore[arg-type]
                finally:
                    with lock:
                        active[0] -= 1

            engine.query = tracking  # type: ignore[method-assign,assignment]
            now = datetime(2026, 11, 25, 18, tzinfo=UTC)
            params: dict[str, ParamValue] = {
                "fromTime": now - timedelta(hours=1),
                "toTime": now,
                "deviceId": "",
                "maxRows": 10,
                "afterTime": None,
                "afterReadingId": "",
            }
            counts: list[int] = []

            async def one() -> None:
                rows = await store.run(queries.CRITICAL_EVENTS, params, request_id="t")
                counts.append(len(rows))

            async with anyio.create_task_group() as group:
                for _ in range(3 * local.QUERY_THREADS):
                    group.start_soon(one)
            threads_setting = engine._connection.execute(
                "SELECT current_setting('threads')"
            ).fetchone()
            assert threads_setting == (local.ENGINE_THREADS,)
            return counts
        finally:
            await store.close()

    counts = anyio.run(go)
    assert counts == [0] * (3 * local.QUERY_THREADS)
    assert 1 <= peak[0] <= local.QUERY_THREADS
    assert threading.current_thread().name not in seen  # never on the event loop thread


def test_opening_the_store_leaves_the_process_settings_alone() -> None:
    # Process tuning is the entry point's opt-in (powerwatch_api.server), never a store's.
    before = (sys.getswitchinterval(), gc.get_freeze_count())

    async def go() -> tuple[float, int]:
        store = LocalStore()
        await store.open()
        try:
            return sys.getswitchinterval(), gc.get_freeze_count()
        finally:
            await store.close()

    assert anyio.run(go) == before


def test_a_result_without_a_declared_column_is_a_clear_error() -> None:
    query = StoredQuery(name="Odd", text="print A = 1", parameters=(), columns=("A", "B"))

    async def go() -> None:
        store = LocalStore()
        await store.open()
        try:
            assert await store.run(
                StoredQuery(name="One", text="print A = 1", parameters=(), columns=("A",)),
                {},
                request_id="r",
            ) == [{"A": 1}]
            await store.run(query, {}, request_id="r")
        finally:
            await store.close()

    with pytest.raises(StoreQueryError, match=r"Odd: result lacks columns \['B'\]"):
        anyio.run(go)
