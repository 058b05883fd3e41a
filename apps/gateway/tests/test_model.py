"""Stable reading ids."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from powerwatch_gateway.model import reading_id, reading_id_key

TS = datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=UTC)


def test_same_reading_same_id_and_any_field_changes_it() -> None:
    base = reading_id("drv-01", TS, 812)
    assert base == reading_id("drv-01", TS, 812)
    assert len(base) == 32
    assert int(base, 16) >= 0
    assert base != reading_id("drv-02", TS, 812)
    assert base != reading_id("drv-01", TS + timedelta(microseconds=1), 812)
    assert base != reading_id("drv-01", TS, 813)
    assert base != reading_id("drv-01", TS, None)


def test_the_id_depends_on_the_instant_not_its_offset() -> None:
    plus_two = TS.astimezone(timezone(timedelta(hours=2)))
    assert reading_id("d", TS, None) == reading_id("d", plus_two, None)


def test_the_id_is_pinned() -> None:
    """Downstream de-duplicates on this value: changing the scheme is a breaking change."""
    key = b'"device_id":"drv-01","ts":"2026-11-25T18:00:00Z","seq":812'
    assert reading_id_key("drv-01", datetime(2026, 11, 25, 18, 0, tzinfo=UTC), 812) == key
    assert reading_id_key("d", TS, None) == (
        b'"device_id":"d","ts":"2026-11-25T18:00:00.123456Z","seq":null'
    )
    expected = hashlib.blake2b(key).hexdigest()[:32]
    assert expected == "f864a0bf6f52638dd38cffec3fd18641"  # the example in docs/protocol.md
    assert reading_id("drv-01", datetime(2026, 11, 25, 18, 0, tzinfo=UTC), 812) == expected
