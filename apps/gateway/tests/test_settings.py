"""Settings: environment and CLI, one object, clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from powerwatch_gateway.cli import main
from powerwatch_gateway.settings import OPTIONS, Settings, SettingsError, load


def test_defaults_without_anything() -> None:
    settings = load({})
    assert settings == Settings()
    assert (settings.http_host, settings.http_port, settings.sink) == ("127.0.0.1", 8080, "spool")
    assert settings.spool_path == Path("gateway-data/spool")


def test_environment_then_cli_wins() -> None:
    env = {"GATEWAY_BATCH_MAX": "50", "GATEWAY_HTTP_PORT": "9000", "GATEWAY_HTTP_HOST": "0.0.0.0"}
    settings = load(env, {"batch_max": "70"})
    assert (settings.batch_max, settings.http_port, settings.http_host) == (70, 9000, "0.0.0.0")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_BATCH_MAX": "abc"}, "GATEWAY_BATCH_MAX=abc: not an integer"),
        ({"GATEWAY_BATCH_MAX": "0"}, "GATEWAY_BATCH_MAX=0: must be between 1 and 100000"),
        ({"GATEWAY_HTTP_PORT": "70000"}, "GATEWAY_HTTP_PORT=70000: must be between 0 and 65535"),
        (
            {"GATEWAY_SILENT_AFTER_S": "soon"},
            "GATEWAY_SILENT_AFTER_S=soon: not a number of seconds",
        ),
        (
            {"GATEWAY_SILENT_AFTER_S": "nan"},
            "GATEWAY_SILENT_AFTER_S=nan: must be a finite number > 0",
        ),
        ({"GATEWAY_SINK": "kafka"}, "GATEWAY_SINK=kafka: must be one of spool, eventhubs"),
        (
            {"GATEWAY_DRIVER_HOST": "10.0.0.5"},
            "GATEWAY_DRIVER_CA_FILE is required when GATEWAY_DRIVER_HOST is set",
        ),
        (
            {"GATEWAY_SINK": "eventhubs"},
            "GATEWAY_EVENTHUBS_NAMESPACE is required when GATEWAY_SINK=eventhubs",
        ),
        (
            {
                "GATEWAY_EVENTHUBS_NAMESPACE": "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKey=abc"
            },
            "looks like a connection string",
        ),
        ({"GATEWAY_BACKOFF_INITIAL_S": "10", "GATEWAY_BACKOFF_MAX_S": "1"}, "must not exceed"),
    ],
)
def test_bad_values_fail_with_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(env)
    assert message in str(caught.value)


def test_cli_flag_errors_name_the_flag() -> None:
    with pytest.raises(SettingsError, match=r"^--batch-max=x: not an integer$"):
        load({}, {"batch_max": "x"})


def test_missing_certificate_files_are_reported(tmp_path: Path) -> None:
    env = {
        "GATEWAY_DRIVER_HOST": "127.0.0.1",
        "GATEWAY_DRIVER_CA_FILE": str(tmp_path / "nope.pem"),
        "GATEWAY_DRIVER_CERT_FILE": str(tmp_path / "nope.pem"),
        "GATEWAY_DRIVER_KEY_FILE": str(tmp_path / "nope.pem"),
    }
    with pytest.raises(SettingsError, match=r"GATEWAY_DRIVER_CA_FILE=.*nope\.pem: file not found"):
        load(env)


def test_every_option_has_an_env_name_and_flag() -> None:
    assert all(o.env.startswith("GATEWAY_") and o.flag.startswith("--") for o in OPTIONS)
    assert len({o.env for o in OPTIONS}) == len(OPTIONS)


def test_cli_exits_2_with_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_BATCH_MAX", "abc")
    assert main(["run"]) == 2
    assert (
        "powerwatch-gateway: error: GATEWAY_BATCH_MAX=abc: not an integer"
        in capsys.readouterr().err
    )
