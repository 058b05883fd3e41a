"""Where readings go. One small interface, two implementations.

- `SpoolSink`: the local durable spool. Always written first (it is the
  gateway's write-ahead log); in local mode the spool directory *is* the sink.
- `EventHubsSink`: Azure Event Hubs through the async producer, authenticated
  with `DefaultAzureCredential` (managed identity in Azure; never a key). The
  `Forwarder` feeds it from the spool, so an outage only grows the spool.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from powerwatch_gateway.spool import SpoolWriter

if TYPE_CHECKING:
    from azure.eventhub.aio import EventHubProducerClient


@dataclass(frozen=True, slots=True)
class RecordBatch:
    """Output records encoded as NDJSON: every line ends with a newline."""

    data: bytes
    count: int

    def lines(self) -> list[bytes]:
        return self.data[:-1].split(b"\n") if self.data else []


class Sink(Protocol):
    name: str

    async def send(self, batch: RecordBatch) -> None:
        """Deliver the batch in order; return only once it is safe; raise otherwise."""

    async def close(self) -> None: ...


class SpoolSink:
    name = "spool"

    def __init__(self, writer: SpoolWriter) -> None:
        self.writer = writer

    async def send(self, batch: RecordBatch) -> None:
        await asyncio.to_thread(self.writer.append, batch.data)

    async def close(self) -> None:
        await asyncio.to_thread(self.writer.close)


class RecordTooLargeError(ValueError):
    """A single record does not fit an empty Event Hubs batch."""


class _PartitionKey(msgspec.Struct):
    device_id: str


_key_decoder = msgspec.json.Decoder(_PartitionKey)


class EventHubsSink:
    name = "eventhubs"

    def __init__(self, producer: EventHubProducerClient, max_parallel_keys: int = 32) -> None:
        self._producer = producer
        self._parallel = asyncio.Semaphore(max_parallel_keys)
        self._credential: Any = None

    @classmethod
    def from_settings(cls, fully_qualified_namespace: str, eventhub_name: str) -> EventHubsSink:
        from azure.eventhub.aio import EventHubProducerClient
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
        producer = EventHubProducerClient(
            fully_qualified_namespace=fully_qualified_namespace,
            eventhub_name=eventhub_name,
            credential=credential,
        )
        sink = cls(producer)
        sink._credential = credential
        return sink

    async def send(self, batch: RecordBatch) -> None:
        """Partition key = device id; per device, batches go out in record order."""
        by_device: dict[str, list[bytes]] = {}
        for body in batch.lines():
            by_device.setdefault(_key_decoder.decode(body).device_id, []).append(body)
        await asyncio.gather(*(self._send_device(k, v) for k, v in by_device.items()))

    async def _send_device(self, device_id: str, bodies: list[bytes]) -> None:
        from azure.eventhub import EventData

        async with self._parallel:
            batch = await self._producer.create_batch(partition_key=device_id)
            for body in bodies:
                try:
                    batch.add(EventData(body))
                except ValueError:  # the SDK's "batch is full" signal
                    if len(batch) == 0:
                        raise RecordTooLargeError(f"record of {len(body)} bytes") from None
                    await self._producer.send_batch(batch)
                    batch = await self._producer.create_batch(partition_key=device_id)
                    batch.add(EventData(body))
            if len(batch):
                await self._producer.send_batch(batch)

    async def close(self) -> None:
        await self._producer.close()
        if self._credential is not None:
            await self._credential.close()
