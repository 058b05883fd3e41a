"""Many parallel requests while batches are being ingested: every answer is consistent.

Ingestion is transactional (a batch is all visible or not at all) and pagination is a
keyset over (Timestamp, ReadingId), so while a writer thread keeps committing batches:
* a single answer never shows part of a batch;
* walking the pages yields strictly ordered rows, no duplicates, and every row that
  existed before the walk began exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.stores.local import LocalStore

from .conftest import NOW, iso, make_engine, reading

BATCHES = 24
BATCH_SIZE = 5
WINDOW = {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW)}


def batch(number: int) -> list[dict[str, Any]]:
    """Over-threshold readings of device conc-01; even batches older than the existing
    events (late data), odd ones newer than most of them."""
    base = NOW - (timedelta(minutes=40) if number % 2 == 0 else timedelta(minutes=4))
    return [
        reading("conc-01", base + timedelta(seconds=number * 10 + i), 230.0, 30.0, number * 100 + i)
        for i in range(BATCH_SIZE)
    ]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.slow
@pytest.mark.anyio
async def test_parallel_reads_during_ingestion_are_consistent() -> None:
    engine = make_engine()
    app = create_app(Settings(), store=LocalStore(engine=engine))
    done = threading.Event()
    ingested: list[int] = []

    def ingest() -> None:
        for number in range(BATCHES):
            engine.ingest(batch(number))
            ingested.append(number)
            time.sleep(0.02)
        done.set()

    walks: list[tuple[set[str], list[dict[str, Any]]]] = []
    snapshots: list[list[dict[str, Any]]] = []

    async with AsyncTestClient(app) as client:

        async def existing_ids() -> set[str]:
            response = await client.get("/api/v1/events", params={**WINDOW, "limit": 1000})
            assert response.status_code == 200
            return {e["reading_id"] for e in response.json()["items"]}

        async def walk() -> None:
            before = await existing_ids()
            rows: list[dict[str, Any]] = []
            params: dict[str, Any] = {**WINDOW, "limit": 7}
            while True:
                response = await client.get("/api/v1/events", params=params)
                assert response.status_code == 200, response.text
                page = response.json()
                rows.extend(page["items"])
                if page["next_cursor"] is None:
                    break
                params = {"cursor": page["next_cursor"], "limit": 7}
            walks.append((before, rows))

        async def snapshot() -> None:
            while True:  # at least once, then until the writer is done
                finished = done.is_set()
                response = await client.get(
                    "/api/v1/events", params={**WINDOW, "device": "conc-01", "limit": 1000}
                )
                assert response.status_code == 200, response.text
                snapshots.append(response.json()["items"])
                if finished:
                    break

        writer = threading.Thread(target=ingest)
        writer.start()
        try:
            async with anyio.create_task_group() as group:
                for _ in range(6):
                    group.start_soon(walk)
                for _ in range(4):
                    group.start_soon(snapshot)
        finally:
            writer.join()
    engine.close()

    assert ingested == list(range(BATCHES))
    assert len(walks) == 6
    for before, rows in walks:
        keys = [(r["ts"], r["reading_id"]) for r in rows]
        assert keys == sorted(keys, reverse=True)
        assert len(keys) == len(set(keys))
        assert before <= {r["reading_id"] for r in rows}
    assert len(snapshots) >= 4
    for rows in snapshots:
        per_batch = Counter(int(r["seq"]) // 100 for r in rows)
        assert set(per_batch.values()) <= {BATCH_SIZE}, per_batch
