"""Realistic Driver readings: mains voltage around 230 V, per-device load profiles,
scheduled critical surges and optional bad lines. Used by driver-sim and the benchmark."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

NOMINAL_V = 230.0
# A surge draws enough current that V x I passes the 5000 W default threshold.
SURGE_CURRENT_A = (24.0, 32.0)

BAD_LINES: tuple[bytes, ...] = (
    b"this is not json",
    b'{"device_id":"drv-bad","ts":"2026-11-25T18:00:00Z","voltage":NaN,"current":1.0}',
    b'{"device_id":"drv-bad","ts":"2026-11-25T18:00:00Z","voltage":99999,"current":1.0}',
    b'{"device_id":"drv-bad","voltage":230.0,"current":1.0}',
    b'{"device_id":"drv-\xff\xfe","ts":"2026-11-25T18:00:00Z","voltage":230.0,"current":1.0}',
    b'{"device_id":"drv-bad","ts":"2999-01-01T00:00:00Z","voltage":230.0,"current":1.0}',
    b'{"device_id":"drv-bad","ts":"2026-11-25T18:00:00Z","voltage":"230","current":1.0}',
)


@dataclass
class _Device:
    device_id: str
    base_a: float
    swing_a: float
    phase: float
    appliance_a: float = 0.0
    seq: int = 0


class ReadingModel:
    def __init__(
        self,
        devices: int,
        *,
        seed: int = 1,
        prefix: str = "drv-",
        surge_every_s: float = 60.0,
        surge_seconds: float = 5.0,
        bad_line_rate: float = 0.0,
        profile_period_s: float = 600.0,
    ) -> None:
        # Seeded simulation, not cryptography: reproducible runs.
        self._rng = random.Random(seed)  # noqa: S311  # nosec B311
        width = max(2, len(str(devices)))
        self.devices = [
            _Device(
                f"{prefix}{i + 1:0{width}d}",
                base_a=self._rng.uniform(1.5, 9.0),
                swing_a=self._rng.uniform(0.5, 4.0),
                phase=self._rng.uniform(0, 2 * math.pi),
            )
            for i in range(devices)
        ]
        self._surge_every = surge_every_s
        self._surge_seconds = surge_seconds
        self._bad_rate = bad_line_rate
        self._period = profile_period_s

    def surging_device(self, elapsed_s: float) -> int | None:
        """Index of the device in a scheduled surge at this time, if any."""
        if self._surge_every <= 0 or elapsed_s < self._surge_every:
            return None
        cycle, into = divmod(elapsed_s, self._surge_every)
        if into >= self._surge_seconds:
            return None
        return (int(cycle) - 1) % len(self.devices)

    def tick(self, ts: datetime, elapsed_s: float) -> list[bytes]:
        """One reading per device, all stamped `ts` (UTC)."""
        rng = self._rng
        stamp = ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        grid = NOMINAL_V + 2.5 * math.sin(2 * math.pi * elapsed_s / (self._period * 1.7))
        surging = self.surging_device(elapsed_s)
        lines = []
        for index, device in enumerate(self.devices):
            if rng.random() < 0.01:  # an appliance switches on or off
                device.appliance_a = 0.0 if device.appliance_a else rng.uniform(2.0, 8.0)
            current = (
                device.base_a
                + device.swing_a * math.sin(2 * math.pi * elapsed_s / self._period + device.phase)
                + device.appliance_a
                + rng.gauss(0, 0.15)
            )
            if index == surging:
                current = rng.uniform(*SURGE_CURRENT_A)
            voltage = grid + rng.gauss(0, 0.8)
            device.seq += 1
            if self._bad_rate and rng.random() < self._bad_rate:
                lines.append(rng.choice(BAD_LINES))
                continue
            lines.append(
                b'{"device_id":"%s","ts":"%s","voltage":%.2f,"current":%.3f,"seq":%d}'
                % (
                    device.device_id.encode(),
                    stamp.encode(),
                    voltage,
                    max(current, 0.0),
                    device.seq,
                )
            )
        return lines
