"""Every known device with its latest reading and status."""

from __future__ import annotations

from powerwatch_api import queries
from powerwatch_api.models import Device, DeviceList
from powerwatch_api.settings import LimitsSettings
from powerwatch_api.stores.base import Store


class DevicesService:
    def __init__(self, store: Store, limits: LimitsSettings) -> None:
        self._store = store
        self._limits = limits

    @property
    def store_kind(self) -> str:
        return self._store.kind

    async def devices(self, *, request_id: str) -> DeviceList:
        rows = await self._store.run(
            queries.DEVICE_STATUS,
            {"silentAfter": self._limits.silent_after},
            request_id=request_id,
        )
        items = [
            Device(
                device_id=row["DeviceId"],
                last_reading_at=row["LastTimestamp"],
                last_power_w=row["LastPowerW"],
                threshold_w=row["ThresholdW"],
                status=row["Status"],
            )
            for row in rows
        ]
        items.sort(key=lambda d: d.device_id)
        return DeviceList(items=items)

    async def ready(self, *, request_id: str) -> None:
        """Raises a StoreError when the store cannot answer the cheapest query."""
        await self._store.run(queries.PING, {}, request_id=request_id)
