"""Event Hubs delivery through the spool, with the SDK producer faked.

Faked: ONLY the `EventHubProducerClient` object (no Event Hubs namespace can
exist here). Its `create_batch` returns the SDK's real `EventDataBatch`, so the
batch size limits are the SDK's own; `send_batch` raises the SDK's own
`ConnectError` for a while, like an outage. Everything else is the real code:
EventHubsSink, Forwarder, spool on disk, replay.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import msgspec
from azure.eventhub import EventDataBatch
from azure.eventhub.exceptions import ConnectError
from powerwatch_gateway.replay import replay
from powerwatch_gateway.settings import Settings
from powerwatch_gateway.sinks import EventHubsSink
from powerwatch_gateway.spool import read_checkpoint


class FakeProducer:
    """Stands in for azure.eventhub.aio.EventHubProducerClient (narrowest boundary)."""

    def __init__(self, fail_first: int, max_batch_bytes: int = 1500) -> None:
        self.fail_left = fail_first
        self.max_batch_bytes = max_batch_bytes
        self.failures = 0
        self.sent: list[tuple[str, list[dict[str, object]]]] = []
        self.closed = False
        self._keys: dict[int, str] = {}

    async def create_batch(
        self, *, partition_key: str | None = None, **_: object
    ) -> EventDataBatch:
        batch = EventDataBatch(max_size_in_bytes=self.max_batch_bytes, partition_key=partition_key)
        self._keys[id(batch)] = str(partition_key)
        return batch

    async def send_batch(self, batch: EventDataBatch) -> None:
        if self.fail_left > 0:
            self.fail_left -= 1
            self.failures += 1
            raise ConnectError("simulated outage: namespace unreachable")
        bodies = [msgspec.json.decode(event.body_as_str()) for event in batch._internal_events]
        self.sent.append((self._keys[id(batch)], bodies))

    async def close(self) -> None:
        self.closed = True


def write_input(path: Path, make_line, devices: int = 4, per_device: int = 30) -> list[bytes]:  # type: ignore[no-untyped-def]
    lines = [make_line(f"dev-{d}", i, i) for i in range(per_device) for d in range(devices)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return lines


def eventhubs_settings(tmp_path: Path, grace: float = 20.0) -> Settings:
    return Settings(
        sink="eventhubs",
        eventhubs_namespace="example.servicebus.windows.net",
        eventhubs_name="readings",
        data_dir=tmp_path / "data",
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        shutdown_grace_s=grace,
        batch_max=7,  # many small spool batches
    )


def test_outage_is_absorbed_by_the_spool_and_replayed_in_order(
    tmp_path, make_line, run_async
) -> None:  # type: ignore[no-untyped-def]
    write_input(tmp_path / "in.ndjson", make_line)
    producer = FakeProducer(fail_first=6)
    settings = eventhubs_settings(tmp_path)
    summary = run_async(replay(settings, str(tmp_path / "in.ndjson"), EventHubsSink(producer)))  # type: ignore[arg-type]
    assert producer.failures == 6  # the outage really happened
    assert (summary.accepted, summary.delivered, summary.left_in_spool) == (120, 120, 0)
    per_device: dict[str, list[int]] = defaultdict(list)
    for key, bodies in producer.sent:
        assert {b["device_id"] for b in bodies} == {key}  # partition key = device id
        per_device[key].extend(int(b["seq"]) for b in bodies)  # type: ignore[call-overload]
    # at-least-once: a retried chunk may repeat, but per device the order holds, nothing missing
    for key, seqs in per_device.items():
        deduped = list(dict.fromkeys(seqs))
        assert deduped == list(range(30)), key
    assert len(producer.sent) > 4  # the SDK batch size limit split the sends
    assert producer.closed
    assert read_checkpoint(settings.spool_path / "consumers" / "eventhubs.json") is not None


def test_a_long_outage_leaves_readings_spooled_for_the_next_start(
    tmp_path, make_line, run_async
) -> None:  # type: ignore[no-untyped-def]
    write_input(tmp_path / "in.ndjson", make_line, devices=2, per_device=10)
    settings = eventhubs_settings(tmp_path, grace=0.3)
    down = FakeProducer(fail_first=10**6)
    first = run_async(replay(settings, str(tmp_path / "in.ndjson"), EventHubsSink(down)))  # type: ignore[arg-type]
    assert (first.delivered, first.left_in_spool) == (0, 20)
    assert down.sent == []
    (tmp_path / "empty.ndjson").write_bytes(b"")
    up = FakeProducer(fail_first=0)
    second = run_async(replay(settings, str(tmp_path / "empty.ndjson"), EventHubsSink(up)))  # type: ignore[arg-type]
    assert (second.delivered, second.left_in_spool) == (20, 0)
    assert sorted((k, int(b["seq"])) for k, bodies in up.sent for b in bodies) == sorted(  # type: ignore[call-overload]
        (f"dev-{d}", i) for d in range(2) for i in range(10)
    )


def test_real_sdk_client_is_built_with_a_credential_not_a_key(run_async) -> None:  # type: ignore[no-untyped-def]
    from azure.eventhub.aio import EventHubProducerClient
    from azure.identity.aio import DefaultAzureCredential

    async def build_and_close() -> tuple[object, object]:
        sink = EventHubsSink.from_settings("example.servicebus.windows.net", "readings")
        kinds = (sink._producer, sink._credential)
        await sink.close()  # never connected: nothing goes over the network
        return kinds

    producer, credential = run_async(build_and_close())  # type: ignore[misc]
    assert isinstance(producer, EventHubProducerClient)
    assert isinstance(credential, DefaultAzureCredential)


def test_live_gateway_forwards_through_an_outage_and_drains_on_stop(
    pki, tls_driver, make_line, tmp_path, run_async
) -> None:  # type: ignore[no-untyped-def]
    """Driver → gateway → spool → Event Hubs with the SDK failing a while; stop flushes, drains."""
    import asyncio

    from powerwatch_gateway.service import Gateway

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\n".join(make_line(f"live-{i % 3}", i, i) for i in range(90)) + b"\n")
        await writer.drain()
        await asyncio.sleep(60)

    producer = FakeProducer(fail_first=4)
    with tls_driver(handler) as driver:
        settings = Settings(
            driver_host="127.0.0.1",
            driver_port=driver.port,
            driver_ca_file=pki.ca,
            driver_cert_file=pki.client.cert,
            driver_key_file=pki.client.key,
            sink="eventhubs",
            eventhubs_namespace="example.servicebus.windows.net",
            eventhubs_name="readings",
            data_dir=tmp_path / "data",
            http_port=0,
            batch_interval_s=5.0,  # long: the last batch is only flushed by the stop
            backoff_initial_s=0.01,
            backoff_max_s=0.05,
        )
        gateway = Gateway(settings, EventHubsSink(producer))  # type: ignore[arg-type]

        async def scenario() -> None:
            stop = asyncio.Event()
            serving = asyncio.create_task(gateway.serve(stop))
            while gateway.pipeline.accepted < 90:  # noqa: ASYNC110 - polling counters
                await asyncio.sleep(0.02)
            stop.set()  # nothing spooled yet (batch interval 5 s): shutdown must flush + drain
            await asyncio.wait_for(serving, 20)

        run_async(scenario())
    delivered = sorted((k, int(b["seq"])) for k, bodies in producer.sent for b in bodies)  # type: ignore[call-overload]
    assert sorted(set(delivered)) == sorted((f"live-{i % 3}", i) for i in range(90))
    assert producer.failures == 4
    assert producer.closed
