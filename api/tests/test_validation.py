from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from powerwatch_api.problems import InvalidParametersError
from powerwatch_api.settings import LimitsSettings
from powerwatch_api.validation import (
    BIN_SIZES,
    Cursor,
    TimeWindow,
    check_device_id,
    decode_cursor,
    encode_cursor,
    resolve_window,
    widen_to_bins,
)

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
LIMITS = LimitsSettings()


@pytest.mark.parametrize("device", ["drv-01", "a", "A.b:c_d-e", "x" * 64])
def test_safe_device_ids_pass(device: str) -> None:
    assert check_device_id(device) == device


@pytest.mark.parametrize(
    "device",
    ["", "-lead", "x" * 65, "a b", "a'b", 'a"|take', "é", "a\nb", "a;b", "a/b", "drv-01\n"],
)
def test_unsafe_device_ids_are_refused(device: str) -> None:
    with pytest.raises(InvalidParametersError, match="must match"):
        check_device_id(device)


def test_window_defaults_to_the_last_day() -> None:
    window = resolve_window(None, None, now=NOW, limits=LIMITS)
    assert (window.start, window.end) == (NOW - timedelta(days=1), NOW)


def test_window_must_be_utc_ordered_and_bounded() -> None:
    with pytest.raises(InvalidParametersError, match="explicit UTC offset"):
        resolve_window(datetime(2026, 1, 1), None, now=NOW, limits=LIMITS)
    with pytest.raises(InvalidParametersError, match="in UTC"):
        resolve_window(
            datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))), None, now=NOW, limits=LIMITS
        )
    with pytest.raises(InvalidParametersError, match="earlier than"):
        resolve_window(NOW, NOW, now=NOW, limits=LIMITS)
    with pytest.raises(InvalidParametersError, match="maximum of 31 days"):
        resolve_window(NOW - timedelta(days=32), NOW, now=NOW, limits=LIMITS)


def test_both_bad_ends_are_reported_together() -> None:
    with pytest.raises(InvalidParametersError) as info:
        resolve_window(datetime(2026, 1, 1), datetime(2026, 1, 2), now=NOW, limits=LIMITS)
    assert [e.field for e in info.value.errors] == ["from", "to"]


def test_cursor_round_trips_and_is_opaque() -> None:
    cursor = Cursor(
        device="drv-01",
        start=NOW - timedelta(hours=1),
        end=NOW,
        after_time=NOW - timedelta(minutes=5, microseconds=123),
        after_reading_id="0f" * 16,
    )
    text = encode_cursor(cursor)
    assert "drv-01" not in text
    assert "=" not in text
    assert decode_cursor(text) == cursor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not-base64!!",
        "eyJ2IjoyfQ",  # {"v":2}
        "W10",  # []
        "x" * 600,
    ],
)
def test_foreign_cursors_are_a_clear_400(text: str) -> None:
    with pytest.raises(InvalidParametersError, match="not a cursor issued by this API"):
        decode_cursor(text)


def test_cursor_with_injected_reading_id_is_refused() -> None:
    import base64
    import json

    payload = {
        "v": 1,
        "d": "",
        "f": NOW.isoformat(),
        "u": NOW.isoformat(),
        "t": NOW.isoformat(),
        "r": 'x" | project secret //',
    }
    text = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    with pytest.raises(InvalidParametersError, match="cursor"):
        decode_cursor(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-11-25T18:00:00Z", None),
        ("2026-11-25t18:00:00.1234567+00:00", None),
        ("2026-11-25T18:00:00", "explicit UTC offset"),
        ("2026-11-25", "ISO-8601 UTC timestamp"),
        ("2026-11-25T18:00:00Z\n", "ISO-8601 UTC timestamp"),
        ("٢٠٢٦-11-25T18:00:00Z", "ISO-8601 UTC timestamp"),
        ("1764093600", "ISO-8601 UTC timestamp"),
        ("2026-02-30T00:00:00Z", "valid calendar date"),
        ("0001-01-01T00:00:00Z", "between 1970"),
        ("9999-12-31T23:59:59Z", "between 1970"),
    ],
)
def test_time_parsing_is_strict(text: str, message: str | None) -> None:
    from powerwatch_api.validation import parse_time

    if message is None:
        assert parse_time(text, "from").tzinfo is not None
    else:
        with pytest.raises(InvalidParametersError, match=message):
            parse_time(text, "from")


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=40)),
    span=st.sampled_from(list(BIN_SIZES.values())),
)
def test_windows_widen_to_the_fewest_whole_bins(
    start: datetime, length: timedelta, span: timedelta
) -> None:
    asked = TimeWindow(start.replace(tzinfo=UTC), start.replace(tzinfo=UTC) + length)
    whole = widen_to_bins(asked, span)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert (whole.start - epoch) % span == timedelta(0)
    assert (whole.end - epoch) % span == timedelta(0)
    assert whole.start <= asked.start < whole.start + span
    assert whole.end - span < asked.end <= whole.end
