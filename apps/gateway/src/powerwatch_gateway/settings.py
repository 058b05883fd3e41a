"""All gateway settings: one frozen object, from CLI flags over environment over defaults.

Each option is declared once in `OPTIONS`; its environment variable is
`GATEWAY_<NAME>` and its flag `--<name-with-dashes>`. A bad value fails at
start with a message naming where it came from, e.g.
"GATEWAY_BATCH_MAX=abc: not an integer".
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "GATEWAY_"
SINKS = ("spool", "eventhubs")
LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingsError(ValueError):
    """A setting has a bad value; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    # Driver connection (no host = no Driver: the gateway idles, not ready)
    driver_host: str | None = None
    driver_port: int = 7000
    driver_server_name: str | None = None
    driver_ca_file: Path | None = None
    driver_cert_file: Path | None = None
    driver_key_file: Path | None = None
    connect_timeout_s: float = 10.0
    silent_after_s: float = 15.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    # Validation
    max_line_bytes: int = 4096
    max_future_skew_s: float = 300.0
    # Batching and delivery
    batch_max: int = 1000
    batch_interval_s: float = 0.2
    sink: str = "spool"
    eventhubs_namespace: str | None = None
    eventhubs_name: str | None = None
    shutdown_grace_s: float = 10.0
    # Storage
    data_dir: Path = Path("gateway-data")
    spool_dir: Path | None = None
    dead_letter_file: Path | None = None
    segment_max_bytes: int = 16 << 20
    segment_seal_after_s: float = 60.0
    dead_letter_raw_max_bytes: int = 2048
    # Operations
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    http_port_file: Path | None = None
    log_level: str = "info"

    @property
    def spool_path(self) -> Path:
        return self.spool_dir or self.data_dir / "spool"

    @property
    def dead_letter_path(self) -> Path:
        return self.dead_letter_file or self.data_dir / "dead-letter.ndjson"


@dataclass(frozen=True)
class Option:
    name: str
    parse: Callable[[str], Any]
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _integer(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise SettingsError("not an integer") from None
        if value < low or (high is not None and value > high):
            raise SettingsError(
                f"must be between {low} and {high}" if high else f"must be >= {low}"
            )
        return value

    return parse


def _seconds(low: float = 0.0) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise SettingsError("not a number of seconds") from None
        if not math.isfinite(value) or value <= low:
            raise SettingsError(f"must be a finite number > {low:g}")
        return value

    return parse


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise SettingsError(f"must be one of {', '.join(choices)}")
        return value

    return parse


def _text(text: str) -> str:
    value = text.strip()
    if not value:
        raise SettingsError("must not be empty")
    return value


def _path(text: str) -> Path:
    return Path(_text(text))


def _namespace(text: str) -> str:
    value = _text(text)
    if "sharedaccesskey" in value.lower() or value.lower().startswith("endpoint="):
        # Never accept a key in config: the credential is the managed identity.
        raise SettingsError("looks like a connection string; give the namespace host name only")
    if "." not in value or "/" in value:
        raise SettingsError(
            "must be a fully qualified namespace like <name>.servicebus.windows.net"
        )
    return value


OPTIONS: tuple[Option, ...] = (
    Option("driver_host", _text, "Driver host name or IP; unset = no Driver connection"),
    Option("driver_port", _integer(1, 65535), "Driver TCP port"),
    Option(
        "driver_server_name", _text, "name/IP to verify in Driver's certificate (default: host)"
    ),
    Option("driver_ca_file", _path, "PEM CA bundle that signed Driver's certificate"),
    Option("driver_cert_file", _path, "PEM client certificate presented to Driver"),
    Option("driver_key_file", _path, "PEM private key of the client certificate"),
    Option("connect_timeout_s", _seconds(), "TCP+TLS connect timeout"),
    Option("silent_after_s", _seconds(), "reconnect when Driver sends nothing for this long"),
    Option("backoff_initial_s", _seconds(), "first reconnect delay ceiling (full jitter)"),
    Option("backoff_max_s", _seconds(), "largest reconnect delay ceiling"),
    Option("max_line_bytes", _integer(128, 1 << 20), "longest accepted line, without newline"),
    Option("max_future_skew_s", _seconds(), "reject readings stamped further in the future"),
    Option("batch_max", _integer(1, 100_000), "flush a batch at this many readings"),
    Option("batch_interval_s", _seconds(), "flush a non-empty batch after this long"),
    Option("sink", _choice(SINKS), "spool (local mode) or eventhubs"),
    Option(
        "eventhubs_namespace", _namespace, "Event Hubs namespace, <name>.servicebus.windows.net"
    ),
    Option("eventhubs_name", _text, "Event Hub name"),
    Option(
        "shutdown_grace_s", _seconds(), "on stop, how long to keep draining the spool to the sink"
    ),
    Option("data_dir", _path, "state directory (spool and dead letters by default)"),
    Option("spool_dir", _path, "spool directory (default <data_dir>/spool)"),
    Option("dead_letter_file", _path, "dead-letter NDJSON (default <data_dir>/dead-letter.ndjson)"),
    Option("segment_max_bytes", _integer(4096), "seal a spool segment at this size"),
    Option("segment_seal_after_s", _seconds(), "seal a non-empty spool segment after this long"),
    Option("dead_letter_raw_max_bytes", _integer(64, 1 << 20), "raw bytes kept per dead letter"),
    Option("http_host", _text, "bind address of the health/metrics server"),
    Option("http_port", _integer(0, 65535), "port of the health/metrics server (0 = any free)"),
    Option("http_port_file", _path, "write the bound HTTP port here (tests, orchestration)"),
    Option("log_level", _choice(LOG_LEVELS), "log level"),
)
_BY_NAME = {option.name: option for option in OPTIONS}
if set(_BY_NAME) != {f.name for f in fields(Settings)}:  # keep OPTIONS and Settings in step
    raise RuntimeError("settings.OPTIONS does not match the Settings fields")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per option; all default to None so the environment can fill in."""
    for option in OPTIONS:
        parser.add_argument(
            option.flag, dest=option.name, metavar="VALUE", help=f"{option.help} [{option.env}]"
        )


def load(env: Mapping[str, str], cli: Mapping[str, str | None] | None = None) -> Settings:
    """Build Settings: CLI value, else environment, else default; then cross-checks."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        cli_value = (cli or {}).get(option.name)
        if cli_value is not None:
            raw, source = cli_value, f"{option.flag}={cli_value}"
        elif option.env in env:
            raw, source = env[option.env], f"{option.env}={env[option.env]}"
        else:
            continue
        try:
            values[option.name] = option.parse(raw)
        except SettingsError as error:
            raise SettingsError(f"{source}: {error}") from None
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if settings.driver_host:
        for name in ("driver_ca_file", "driver_cert_file", "driver_key_file"):
            path = getattr(settings, name)
            option = _BY_NAME[name]
            if path is None:
                raise SettingsError(f"{option.env} is required when {ENV_PREFIX}DRIVER_HOST is set")
            if not path.is_file():
                raise SettingsError(f"{option.env}={path}: file not found")
    if settings.sink == "eventhubs":
        for name in ("eventhubs_namespace", "eventhubs_name"):
            if getattr(settings, name) is None:
                raise SettingsError(
                    f"{_BY_NAME[name].env} is required when {ENV_PREFIX}SINK=eventhubs"
                )
    if settings.backoff_initial_s > settings.backoff_max_s:
        raise SettingsError(
            f"{ENV_PREFIX}BACKOFF_INITIAL_S must not exceed {ENV_PREFIX}BACKOFF_MAX_S"
        )
