"""Detection and incident grouping on LocalKusto against plain-Python statements of the rules,
over generated data (hypothesis): thresholds edges, NaN/None, duplicates, any arrival order,
any batch split, several devices."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from powerwatch_kusto import LocalKusto, load_schema

from .conftest import NOW, T0, reading

THRESHOLDS = {"drv-lab-01": 3000.0, "drv-hv-01": 8000.0}
DEVICES = ["drv-01", "drv-lab-01", "drv-hv-01"]
GAP = dt.timedelta(milliseconds=1500)
# Module-level, not the fixture: hypothesis would print its (large) repr on failure.
SCHEMA = load_schema()

currents = st.one_of(
    st.sampled_from([10.0, 15.0, 20.0, 25.0, 40.0, 4.0]),  # 230 V x 20 A would be 4600 W ...
    st.just(float("nan")),
    st.none(),
)
readings_strategy = st.lists(
    st.tuples(st.sampled_from(DEVICES), st.integers(0, 40), currents),
    min_size=1,
    max_size=40,
)


def expected_events(records: list[dict[str, Any]]) -> set[str]:
    found = set()
    for r in records:
        v, c = r["voltage"], r["current"]
        if v is None or c is None or math.isnan(v) or math.isnan(c):
            continue
        if v * c > THRESHOLDS.get(r["device_id"], 5000.0):
            found.add(r["reading_id"])
    return found


def expected_incidents(records: list[dict[str, Any]], ids: set[str]) -> list[tuple[Any, ...]]:
    """Sort each device's events by time and split where the gap exceeds GAP."""
    incidents = []
    by_device: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["reading_id"] in ids:
            by_device.setdefault(r["device_id"], []).append(r)
    for device, events in by_device.items():
        events.sort(key=lambda r: (r["at"], r["reading_id"]))
        run = [events[0]]
        for event in events[1:]:
            if event["at"] - run[-1]["at"] > GAP:
                incidents.append(_summary(device, run))
                run = []
            run.append(event)
        incidents.append(_summary(device, run))
    return sorted(incidents, key=lambda i: (-i[1].timestamp(), i[0]))


def _summary(device: str, run: list[dict[str, Any]]) -> tuple[Any, ...]:
    return (device, run[0]["at"], run[-1]["at"], len(run))


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(rows=readings_strategy, split=st.integers(0, 40), reverse=st.booleans())
def test_detection_and_incidents_match_the_rules(
    rows: list[tuple[str, int, float | None]], split: int, reverse: bool
) -> None:
    schema = SCHEMA
    records = []
    for device, second, current in rows:
        r = reading(second, device=device, voltage=230.0, current=current)
        r["at"] = T0 + dt.timedelta(seconds=second)
        records.append(r)  # same (device, second) twice = a re-sent duplicate
    ordered = list(reversed(records)) if reverse else records
    unique: dict[str, dict[str, Any]] = {}
    for r in ordered:  # the first delivered copy of a ReadingId is the one stored
        unique.setdefault(r["reading_id"], r)
    with LocalKusto(schema=schema, now=lambda: NOW) as engine:
        engine.ingest([{k: v for k, v in r.items() if k != "at"} for r in ordered[:split]])
        engine.ingest([{k: v for k, v in r.items() if k != "at"} for r in ordered[split:]])
        window = {"fromTime": T0, "toTime": T0 + dt.timedelta(minutes=1), "deviceId": ""}
        got_events = engine.query(
            schema.call_query("CriticalEvents"), {**window, "maxRows": 1000}
        ).as_dicts()
        got_incidents = engine.query(
            schema.call_query("PowerIncidents"), {**window, "maxRows": 1000}
        ).as_dicts()
        (stored,) = engine.query("RawReadings | count").rows[0]
    ids = expected_events(list(unique.values()))
    assert stored == len(unique)
    assert {e["ReadingId"] for e in got_events} == ids
    assert len(got_events) == len(ids)
    assert [
        (i["DeviceId"], i["StartTime"], i["EndTime"], i["Readings"]) for i in got_incidents
    ] == expected_incidents(list(unique.values()), ids)


series_rows = st.lists(
    st.tuples(st.sampled_from(DEVICES), st.integers(0, 600), currents),
    min_size=1,
    max_size=60,
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    rows=series_rows,
    splits=st.lists(st.integers(0, 60), max_size=3),
    bin_minutes=st.sampled_from([1, 2, 5, 60]),
    device=st.sampled_from(["", *DEVICES]),
)
def test_power_series_by_minute_equals_power_series_over_whole_bins(
    rows: list[tuple[str, int, float | None]], splits: list[int], bin_minutes: int, device: str
) -> None:
    """The API's per-minute path answers what the raw-reading function answers, whatever the
    batch boundaries (partial rows of one minute from several batches must combine)."""
    schema = SCHEMA
    records = [reading(s, device=d, voltage=230.0, current=c) for d, s, c in rows]
    cuts = sorted({0, len(records), *(min(c, len(records)) for c in splits)})
    span = dt.timedelta(minutes=bin_minutes)
    window = {"deviceId": device, "fromTime": T0, "toTime": T0 + 11 * span, "binSize": span}
    with LocalKusto(schema=schema, now=lambda: NOW) as engine:
        for start, end in itertools.pairwise(cuts):
            engine.ingest(records[start:end])
        raw = engine.query(schema.call_query("PowerSeries"), window).as_dicts()
        by_minute = engine.query(schema.call_query("PowerSeriesByMinute"), window).as_dicts()
    assert [{**r, "AvgPowerW": None} for r in by_minute] == [{**r, "AvgPowerW": None} for r in raw]
    for fast, exact in zip(by_minute, raw, strict=True):
        assert fast["AvgPowerW"] == pytest.approx(exact["AvgPowerW"], rel=1e-12)
