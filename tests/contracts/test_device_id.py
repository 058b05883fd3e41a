"""One device-id contract: the gateway's check, the API's and docs/protocol.md agree.

The gateway and the API never import each other, so each holds the pattern; this test
holds them to one string and to the same answers (a trailing newline included)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from powerwatch_api.problems import InvalidParametersError
from powerwatch_api.validation import DEVICE_ID_PATTERN as API_PATTERN
from powerwatch_api.validation import check_device_id
from powerwatch_gateway.model import DEVICE_ID_PATTERN as GATEWAY_PATTERN
from powerwatch_gateway.validation import Validator

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)

CASES = [
    ("drv-01", True),
    ("plant.a:b_c-1", True),
    ("A", True),
    ("a" * 64, True),
    ("a" * 65, False),
    ("", False),
    ("-drv", False),
    ("drv 01", False),
    ("drv-01\n", False),  # `$` alone lets this through under re.search
    ("drv-01\r", False),
    ("\ndrv-01", False),
    ("drv-é", False),
    ("drv/01", False),
]


def test_the_gateway_the_api_and_the_protocol_hold_one_pattern() -> None:
    assert API_PATTERN == GATEWAY_PATTERN
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert f"`{API_PATTERN}`" in protocol


@pytest.mark.parametrize(("device_id", "valid"), CASES)
def test_both_sides_accept_and_reject_the_same_ids(device_id: str, valid: bool) -> None:
    # As msgspec and OpenAPI validators test it (search), and as each service does.
    assert (re.search(API_PATTERN, device_id) is not None) is valid
    line = msgspec.json.encode(
        {"device_id": device_id, "ts": "2026-11-25T17:59:59Z", "voltage": 230.0, "current": 4.0}
    )
    gateway = Validator().validate([line], NOW)
    assert gateway.accepted == (1 if valid else 0), gateway.rejections
    if valid:
        assert check_device_id(device_id) == device_id
    else:
        with pytest.raises(InvalidParametersError):
            check_device_id(device_id)
