"""The live page's chart on a fresh stack, in a real browser (Debian's Chromium): the
x-axis spans only the data there is, and the min-max band never bridges a missing bin.

The API is served for real (uvicorn on a free port) over a LocalKusto holding a device
that reported for two minutes, missed one whole minute, then reported until now."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from powerwatch_api import Settings, create_app
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto
from powerwatch_local.processes import free_port

from .test_live_page import CHROMIUM, CHROMIUM_ARGS, chart_attr


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _readings(start: datetime, end: datetime) -> list[dict[str, Any]]:
    out = []
    at = start
    while at < end:
        seq = int(at.timestamp())
        out.append(
            {
                "reading_id": f"drv-01-{seq}",
                "device_id": "drv-01",
                "ts": _iso(at),
                "voltage": 230.0,
                "current": 4.0 + (seq % 7),
                "seq": seq,
                "received_at": _iso(at + timedelta(milliseconds=40)),
            }
        )
        at += timedelta(seconds=1)
    return out


@pytest.fixture
def served() -> Iterator[tuple[str, datetime]]:
    """The API over an engine whose data starts at the returned minute, with one gap."""
    now = datetime.now(UTC)
    first = now.replace(second=0, microsecond=0) - timedelta(minutes=5)
    engine = LocalKusto()
    engine.ingest(_readings(first, first + timedelta(minutes=2)))  # minutes 0 and 1
    engine.ingest(_readings(first + timedelta(minutes=3), now))  # minute 2 is missing
    port = free_port()
    app = create_app(Settings(), store=LocalStore(engine=engine))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", first
    finally:
        server.should_exit = True
        thread.join(10)
        engine.close()


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed")
def test_the_chart_spans_the_data_and_leaves_a_missing_bin_empty(
    served: tuple[str, datetime], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, first = served
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(base + "/live/")
            page.wait_for_selector("#chart[data-runs]", timeout=30_000)
            # The axis starts at the first bin (drawn mid-minute): not 30 (or 3) minutes
            # before now, nor at an empty stretch before the data.
            first_bin = first + timedelta(seconds=30)
            assert int(chart_attr(page, "data-start")) == int(first_bin.timestamp() * 1000)
            assert int(chart_attr(page, "data-end")) <= int(time.time() * 1000)
            # Two runs of bins around the missing minute: two bands, two lines, no bridge.
            assert chart_attr(page, "data-runs") == "2"
            assert page.locator("#chart polygon.band").count() == 2
            assert page.locator("#chart path.series").count() == 2
            assert int(chart_attr(page, "data-points")) >= 5
            page.screenshot(path=str(tmp_path / "chart.png"), full_page=True)
        finally:
            context.close()
    assert problems == []
