"""Shared fixtures: the loaded schema, one analyzer run, and a LocalKusto with a pinned clock."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from powerwatch_kusto import KustoSchema, LocalKusto, load_schema
from powerwatch_kusto.analysis import Analysis, analyze, dashboard_items, schema_items

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 25, 18, 30, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def schema() -> KustoSchema:
    return load_schema()


@pytest.fixture(scope="session")
def analysis(schema: KustoSchema) -> dict[str, Analysis]:
    if shutil.which("node") is None or not (REPO / "node_modules" / "@kusto").exists():
        pytest.skip("node or @kusto/language-service-next missing: run `make node`")
    items = {
        **schema_items(schema),
        **dashboard_items(schema.root),
        **typos(schema),
    }
    return analyze(schema, items)


def typos(schema: KustoSchema) -> dict[str, str]:
    """Deliberately broken texts (checked in the same node run): the checker must fail them."""
    detect = schema.functions["DetectPowerEvents"].body
    return {
        "typo: detection body": detect.replace("PowerW > ThresholdW", "PowerW > ThresholdWatts"),
        "typo: query": "RawReadings | project DeviceId, Voltge",
        "typo: control": "RawReadings | project DeviceId, Voltage",
    }


def reading(
    index: int,
    *,
    device: str = "drv-01",
    voltage: Any = 230.0,
    current: Any = 4.0,
    at: dt.datetime | None = None,
    reading_id: str | None = None,
) -> dict[str, Any]:
    """A gateway record (docs/protocol.md shape) at T0 + index seconds."""
    when = at or T0 + dt.timedelta(seconds=index)
    return {
        "reading_id": reading_id or f"{device}:{index}",
        "device_id": device,
        "ts": when.isoformat().replace("+00:00", "Z"),
        "voltage": voltage,
        "current": current,
        "seq": index,
        "received_at": (when + dt.timedelta(milliseconds=20)).isoformat().replace("+00:00", "Z"),
    }


@pytest.fixture
def kusto(schema: KustoSchema) -> Iterator[LocalKusto]:
    with LocalKusto(schema=schema, now=lambda: NOW) as engine:
        yield engine
