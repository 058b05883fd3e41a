"""Structured logs: one JSON object per line on stderr, secrets never written."""

from __future__ import annotations

import json

import pytest
import structlog
from powerwatch_gateway import log_setup


def test_logs_are_json_and_secret_looking_fields_are_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_setup.configure("info")
    structlog.get_logger("t").info(
        "connected",
        host="10.0.0.5",
        client_secret="s3cr3t",
        sas_token="abc",
        driver_key_file="/k.pem",
    )
    structlog.get_logger("t").debug("hidden at info level")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["event"] == "connected"
    assert event["level"] == "info"
    assert event["host"] == "10.0.0.5"
    assert event["client_secret"] == "[redacted]"
    assert event["sas_token"] == "[redacted]"
    assert event["driver_key_file"] == "/k.pem"  # a path to a key is not the key
    assert "s3cr3t" not in lines[0]
