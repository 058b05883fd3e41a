"""The live page in a real browser (Debian's Chromium, driven by Playwright) against the
real stack: it loads, the chart has data, and a surge from the simulator shows up as a
new critical event while the page is open. Set POWERWATCH_SCREENSHOT=<file.png> to keep
a screenshot (docs/local-page.png is made that way)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chart_attr(page: Any, name: str) -> str:
    return page.locator("#chart").get_attribute(name) or "0"


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed")
def test_live_page_shows_power_and_new_events(platform: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    platform.surge_every_s = 4.0
    platform.start()
    platform.wait(platform.api_ready, 90, f"the API\n{platform.logs()}")
    platform.wait(lambda: platform.get("/api/v1/events")["items"], 90, "a first event")
    problems: list[str] = []
    with sync_playwright() as pw:
        # executable_path: Playwright never downloads a browser here.
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            response = page.goto(platform.api + "/live/")
            assert response is not None
            assert response.status == 200
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_selector("#devices[data-count='4']", timeout=30_000)
            # Polled from Python: the page's CSP forbids the eval behind wait_for_function.
            platform.wait(lambda: int(chart_attr(page, "data-points")) >= 1, 30, "chart bins")
            assert page.locator("#chart path.series, #chart circle.bin").count() >= 1
            assert page.locator("#chart line.threshold").count() == 1
            assert page.locator("#chart").get_attribute("data-threshold") == "5000"
            first = set(page.locator("#events tbody tr").evaluate_all(
                "rows => rows.map(r => r.dataset.reading)"
            ))  # fmt: skip
            assert first  # the events seen before the page opened
            # A surge that happens while the page is open arrives as a new, highlighted row.
            page.wait_for_selector("#events tbody tr.new", timeout=30_000)
            new_row = page.locator("#events tbody tr.new").first
            assert new_row.get_attribute("data-reading") not in first
            device = new_row.get_attribute("data-device")
            assert device is not None
            assert device.startswith("drv-")
            assert page.locator("#incidents tbody tr").count() >= 1
            assert "API error" not in (page.locator("#status").text_content() or "")
            platform.wait(lambda: int(chart_attr(page, "data-live-points")) >= 2, 30, "live trace")
            shot = os.environ.get("POWERWATCH_SCREENSHOT")
            page.screenshot(path=shot or str(tmp_path / "page.png"), full_page=True)
        finally:
            context.close()
    assert problems == []
