from datetime import UTC, datetime, timedelta

import pytest
from powerwatch_api.stores.base import StoreQueryError
from powerwatch_api.stores.literals import kql_literal
from powerwatch_local.kusto_endpoint import parse_parameter


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("string", 'a" | take 1', 'a" | take 1'),
        ("long", 101, "101"),
        ("datetime", None, "datetime(null)"),
        (
            "datetime",
            datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=UTC),
            "datetime(2026-11-25T18:00:00.1234560Z)",
        ),
        ("timespan", timedelta(minutes=5), "timespan(0.00:05:00.0000000)"),
        ("timespan", timedelta(days=1, seconds=1.5), "timespan(1.00:00:01.5000000)"),
    ],
)
def test_values_become_kql_literals_and_parse_back(kind: str, value: object, text: str) -> None:
    assert kql_literal(kind, value) == text  # type: ignore[arg-type]
    assert parse_parameter(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "value"),
    [("long", "5"), ("long", True), ("string", 5), ("datetime", "2026-01-01"), ("timespan", 5)],
)
def test_type_mismatch_is_refused_before_sending(kind: str, value: object) -> None:
    with pytest.raises(StoreQueryError):
        kql_literal(kind, value)  # type: ignore[arg-type]


def test_negative_timespans_are_never_sent() -> None:
    with pytest.raises(StoreQueryError):
        kql_literal("timespan", timedelta(seconds=-1))
