"""How a time-window query splits into whole-day extents whose results can be kept.

The idea is a query frontend's (Cortex/Thanos: split by interval, cache the aligned
extents): a call for [fromTime, toTime) becomes one piece per UTC day it touches. A
piece that covers a closed day can be answered from that day's whole result, fetched
once by calling the SAME stored function for the whole day and kept until ingestion
changes that day. Only functions whose answer for a window is exactly "the rows of each
day's answer that fall in the window" split this way:

* CriticalEvents: a row filter (time window, device, keyset cursor), then a sort and a
  cap. Its answer is the day answers' rows in the window after the cursor, newest day
  first, capped.
* PowerSeriesByMinute for one device, with fromTime and toTime on bin boundaries and
  bins that divide a day: each bin lies inside one day and is whole in the window, so its
  aggregate equals the day answer's bin.

Anything else (incidents group readings across a day boundary; device status depends on
now) is not split. This module is pure: no I/O, no cache, only the arithmetic.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from powerwatch_api import queries
from powerwatch_api.stores.base import ParamValue, Row

#: Extents are UTC days: big enough that a typical window (an hour, a day) touches one or
#: two, small enough that ingestion into today leaves every earlier day alone.
EXTENT = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

Params = Mapping[str, ParamValue]


def extent_start(instant: datetime) -> datetime:
    """The start of the extent (UTC day) holding *instant*."""
    return _EPOCH + (instant - _EPOCH) // EXTENT * EXTENT


def micros(instant: datetime) -> int:
    """An instant as integer microseconds since the epoch: exact, and cheap to bisect."""
    return (instant - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class Piece:
    """The part of a window inside one extent."""

    start: datetime
    end: datetime
    extent: datetime

    @property
    def extent_end(self) -> datetime:
        return self.extent + EXTENT

    @property
    def whole(self) -> bool:
        return self.start == self.extent and self.end == self.extent_end


def pieces(start: datetime, end: datetime) -> list[Piece]:
    """[start, end) cut at extent boundaries, oldest first; empty when start >= end."""
    out: list[Piece] = []
    if start >= end:
        return out
    day = extent_start(start)
    while day < end:
        out.append(Piece(max(start, day), min(end, day + EXTENT), day))
        day += EXTENT
    return out


@dataclass(frozen=True)
class Extent:
    """One extent's whole answer: its rows in the function's order (as the store returns
    them; shared by every call cut from it, so read-only) and a bisectable key per row
    (see Split.keys)."""

    rows: list[Row]
    keys: list[int]


class Split(ABC):
    """What a splittable query needs: which calls split, how to fetch a whole extent or
    one piece directly, how to cut a piece out of a fetched extent, and when the pieces
    gathered so far are the whole answer (ResultCache.answer concatenates them)."""

    #: Pieces are visited newest first (and the walk may stop early) or oldest first.
    newest_first: bool = False
    #: A whole-extent fetch that returns more rows than this was capped, so it is unusable.
    max_extent_rows: int | None = None

    def device(self, params: Params) -> str:
        """The device the call reads ("" = every device): what ingestion invalidates by."""
        device = params["deviceId"]
        return device if isinstance(device, str) else ""

    @abstractmethod
    def splits(self, params: Params) -> bool: ...

    @abstractmethod
    def key(self, params: Params) -> Hashable:
        """What besides the device and the extent selects an extent's rows (a bin size)."""
        ...

    @abstractmethod
    def extent_params(self, params: Params, piece: Piece) -> dict[str, ParamValue]: ...

    @abstractmethod
    def piece_params(self, params: Params, piece: Piece, taken: int) -> dict[str, ParamValue]: ...

    @abstractmethod
    def keys(self, rows: Sequence[Row]) -> list[int]: ...

    @abstractmethod
    def cut(self, extent: Extent, params: Params, piece: Piece, taken: int) -> list[Row]: ...

    def complete(self, params: Params, taken: int) -> bool:
        """Whether the pieces answered so far are the whole answer."""
        return False


def instant(params: Params, name: str) -> datetime:
    """A datetime parameter (Split.splits() checked the type; this tells mypy)."""
    value = params[name]
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    return value


def _count(params: Params, name: str) -> int:
    value = params[name]
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an integer")
    return value


class EventsSplit(Split):
    """CriticalEvents: newest first, keyset cursor, at most maxRows.

    Extent rows are in the function's order, Timestamp desc then ReadingId desc; their keys
    are the negated Timestamps in microseconds, so they ascend and bisect.
    """

    newest_first = True
    #: The most rows an extent fetch asks for; a day with more is not used: its pieces are
    #: asked for directly, capped as the caller asked.
    max_extent_rows = 200_000

    def splits(self, params: Params) -> bool:
        rows = params["maxRows"]
        after = params["afterTime"]
        return (
            isinstance(rows, int)
            and rows > 0
            and isinstance(params["fromTime"], datetime)
            and isinstance(params["toTime"], datetime)
            and (after is None or isinstance(after, datetime))
            and isinstance(params["afterReadingId"], str)
        )

    def key(self, params: Params) -> Hashable:
        return ()

    def extent_params(self, params: Params, piece: Piece) -> dict[str, ParamValue]:
        return {
            **params,
            "fromTime": piece.extent,
            "toTime": piece.extent_end,
            "maxRows": self.max_extent_rows + 1,
            "afterTime": None,
            "afterReadingId": "",
        }

    def piece_params(self, params: Params, piece: Piece, taken: int) -> dict[str, ParamValue]:
        rows = _count(params, "maxRows")
        return {**params, "fromTime": piece.start, "toTime": piece.end, "maxRows": rows - taken}

    def keys(self, rows: Sequence[Row]) -> list[int]:
        return [-micros(row["Timestamp"]) for row in rows]

    def cut(self, extent: Extent, params: Params, piece: Piece, taken: int) -> list[Row]:
        # Rows with start <= Timestamp < end: keys in (-end, -start].
        low = bisect_right(extent.keys, -micros(piece.end))
        high = bisect_right(extent.keys, -micros(piece.start))
        after = params["afterTime"]
        if isinstance(after, datetime):
            # The cursor: (Timestamp, ReadingId) strictly below (afterTime, afterReadingId).
            # Rows later than afterTime come first; skip them, then the tied ones not below.
            low = max(low, bisect_left(extent.keys, -micros(after)))
            after_id = str(params["afterReadingId"])
            rows = extent.rows
            while (
                low < high
                and rows[low]["Timestamp"] == after
                and rows[low]["ReadingId"] >= after_id
            ):
                low += 1
        return extent.rows[low : min(high, low + _count(params, "maxRows") - taken)]

    def complete(self, params: Params, taken: int) -> bool:
        return taken >= _count(params, "maxRows")


class SeriesSplit(Split):
    """PowerSeriesByMinute for one device, on whole bins that divide a day.

    Extent rows are in BinStart order (one device); their keys are BinStart in microseconds.
    """

    def splits(self, params: Params) -> bool:
        bin_size = params["binSize"]
        start, end = params["fromTime"], params["toTime"]
        if not (
            isinstance(bin_size, timedelta)
            and isinstance(start, datetime)
            and isinstance(end, datetime)
            and isinstance(params["deviceId"], str)
            and params["deviceId"]
        ):
            return False
        # Whole minutes (the function's contract), a whole number of bins per day, and a
        # window on bin boundaries: then every bin lies in one day and wholly in the window.
        return (
            bin_size >= timedelta(minutes=1)
            and bin_size % timedelta(minutes=1) == timedelta(0)
            and EXTENT % bin_size == timedelta(0)
            and (start - _EPOCH) % bin_size == timedelta(0)
            and (end - _EPOCH) % bin_size == timedelta(0)
        )

    def key(self, params: Params) -> Hashable:
        return params["binSize"]

    def extent_params(self, params: Params, piece: Piece) -> dict[str, ParamValue]:
        return {**params, "fromTime": piece.extent, "toTime": piece.extent_end}

    def piece_params(self, params: Params, piece: Piece, taken: int) -> dict[str, ParamValue]:
        return {**params, "fromTime": piece.start, "toTime": piece.end}

    def keys(self, rows: Sequence[Row]) -> list[int]:
        return [micros(row["BinStart"]) for row in rows]

    def cut(self, extent: Extent, params: Params, piece: Piece, taken: int) -> list[Row]:
        low = bisect_left(extent.keys, micros(piece.start))
        high = bisect_left(extent.keys, micros(piece.end))
        return extent.rows[low:high]


#: The splittable stored queries, by name. A query not here is always asked directly.
SPLITS: dict[str, Split] = {
    queries.CRITICAL_EVENTS.name: EventsSplit(),
    queries.POWER_SERIES.name: SeriesSplit(),
}
