"""Power over time for one device, aggregated per bin."""

from __future__ import annotations

from datetime import datetime

from powerwatch_api import queries
from powerwatch_api.models import BinSize, PowerBin, PowerSeries
from powerwatch_api.problems import invalid
from powerwatch_api.settings import LimitsSettings
from powerwatch_api.stores.base import Store
from powerwatch_api.validation import BIN_SIZES, check_device_id, resolve_window, widen_to_bins


class PowerService:
    def __init__(self, store: Store, limits: LimitsSettings) -> None:
        self._store = store
        self._limits = limits

    async def series(
        self,
        device: str,
        start: str | None,
        end: str | None,
        bin_size: BinSize,
        *,
        now: datetime,
        request_id: str,
    ) -> PowerSeries:
        check_device_id(device, "device_id")
        if bin_size not in BIN_SIZES:
            raise invalid("bin", f"must be one of {', '.join(BIN_SIZES)}")
        span = BIN_SIZES[bin_size]
        asked = resolve_window(start, end, now=now, limits=self._limits)
        window = widen_to_bins(asked, span)
        points = (window.end - window.start) / span
        if points > self._limits.max_series_points:
            raise invalid(
                "bin",
                f"{bin_size} bins over this window give {int(points)} points; "
                f"the maximum is {self._limits.max_series_points} (use a larger bin)",
            )
        rows = await self._store.run(
            queries.POWER_SERIES,
            {"deviceId": device, "fromTime": window.start, "toTime": window.end, "binSize": span},
            request_id=request_id,
        )
        return PowerSeries(
            device_id=device,
            bin=bin_size,
            start=window.start,
            end=window.end,
            points=[
                PowerBin(
                    bin_start=row["BinStart"],
                    avg_power_w=row["AvgPowerW"],
                    min_power_w=row["MinPowerW"],
                    max_power_w=row["MaxPowerW"],
                    readings=row["Readings"],
                    threshold_w=row["ThresholdW"],
                )
                for row in rows
            ],
        )
