"""The gateway's output record (the Event Hubs body = the spool line) and the ADX ingestion
mapping agree: every field the gateway writes has a mapping path."""

from __future__ import annotations

from powerwatch_gateway.model import OutputRecord
from powerwatch_kusto import load_schema


def test_mapping_covers_every_gateway_record_field() -> None:
    schema = load_schema()
    paths = {e.path for e in schema.mappings["RawReadings_mapping"].entries}
    fields = set(OutputRecord.__struct_fields__)
    assert {f"$.{name}" for name in fields} <= paths
    # Only the Event Hubs system property comes from outside the record.
    assert paths - {f"$.{name}" for name in fields} == {"$.x-opt-enqueued-time"}
