"""The extent arithmetic: pieces tile a window exactly, and which calls may split."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from powerwatch_api.stores.extents import (
    EXTENT,
    EventsSplit,
    SeriesSplit,
    extent_start,
    micros,
    pieces,
)

T = datetime(2026, 3, 1, tzinfo=UTC)
instants = st.integers(-3 * 86_400_000_000, 3 * 86_400_000_000).map(
    lambda us: T + timedelta(microseconds=us)
)


@given(instants, instants)
def test_pieces_tile_the_window_one_extent_each(a: datetime, b: datetime) -> None:
    start, end = min(a, b), max(a, b)
    parts = pieces(start, end)
    if start == end:
        assert parts == []
        return
    assert parts[0].start == start
    assert parts[-1].end == end
    for before, after in pairwise(parts):
        assert before.end == after.start == after.extent
    for part in parts:
        assert part.extent <= part.start < part.end <= part.extent_end
        assert part.extent == extent_start(part.start)
        assert part.extent.hour == part.extent.minute == part.extent.microsecond == 0
    assert [p.whole for p in parts[1:-1]] == [True] * (len(parts) - 2)


def test_extent_start_and_micros_at_the_edges() -> None:
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    assert extent_start(midnight) == midnight
    assert extent_start(midnight - timedelta(microseconds=1)) == midnight - EXTENT
    assert micros(midnight) - micros(midnight - timedelta(microseconds=1)) == 1
    assert micros(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1


def events_params(**overrides: object) -> dict[str, object]:
    return {
        "fromTime": T,
        "toTime": T + timedelta(hours=1),
        "deviceId": "d",
        "maxRows": 10,
        "afterTime": None,
        "afterReadingId": "",
        **overrides,
    }


def test_which_events_calls_split() -> None:
    split = EventsSplit()
    assert split.splits(events_params())  # type: ignore[arg-type]
    assert split.splits(events_params(deviceId="", afterTime=T, afterReadingId="x"))  # type: ignore[arg-type]
    assert not split.splits(events_params(maxRows=0))  # type: ignore[arg-type]
    assert not split.splits(events_params(fromTime=None))  # type: ignore[arg-type]


def series_params(**overrides: object) -> dict[str, object]:
    return {
        "deviceId": "d",
        "fromTime": T,
        "toTime": T + timedelta(hours=1),
        "binSize": timedelta(minutes=5),
        **overrides,
    }


def test_which_series_calls_split() -> None:
    split = SeriesSplit()
    for size in ("1m", "5m", "1h", "1d"):
        amount, unit = int(size[:-1]), size[-1]
        bin_size = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount)}.get(
            unit, timedelta(days=amount)
        )
        assert split.splits(series_params(binSize=bin_size, toTime=T + EXTENT))  # type: ignore[arg-type]
    # A bin that does not divide a day would straddle a day boundary.
    assert not split.splits(series_params(binSize=timedelta(minutes=7)))  # type: ignore[arg-type]
    # Part-minute bins are outside the function's contract.
    assert not split.splits(series_params(binSize=timedelta(seconds=30)))  # type: ignore[arg-type]
    # A window off the bin grid would cut a bin that a day's answer has whole.
    assert not split.splits(series_params(fromTime=T + timedelta(minutes=1)))  # type: ignore[arg-type]
    assert not split.splits(series_params(toTime=T + timedelta(minutes=61)))  # type: ignore[arg-type]
    # Every device at once is not split (the API's power endpoint is per device).
    assert not split.splits(series_params(deviceId=""))  # type: ignore[arg-type]
