"""The Event Hubs data connection and cluster settings the IaC must set (no Kusto command).

Derived from the loaded mapping, so the spec and `RawReadings_mapping` cannot drift:
the system properties the connection must embed are exactly the `$.x-opt-*` paths the
mapping reads. Rules followed (Microsoft's ingest-data-event-hub-overview):

* JSON, one record per event: embedded system properties are supported for JSON, but
  for a multi-record event (MULTIJSON) they are added to the first record only, so
  packing readings per event would leave EnqueuedTime empty on all but one row.
* Compression None: "Embedding system properties is not supported when a compression
  of Event Hub messages is set" (the data is then not ingested).
* A dedicated consumer group: it "must be unique per consumer".
* Managed identity: the cluster's identity needs Azure Event Hubs Data Receiver on the
  hub and a database managed-identity policy allowing `DataConnection` (deploy.py emits
  that command).
* Streaming: the data connection can stream only when the cluster has
  `enableStreamingIngest` and the table a streaming ingestion policy.
"""

from __future__ import annotations

from typing import Any

from .loader import KustoSchema

#: The consumer group the ADX data connection (and nothing else) reads.
CONSUMER_GROUP = "adx-powerwatch"


def streaming_tables(schema: KustoSchema) -> list[str]:
    return sorted(
        p.entity
        for p in schema.policies
        if p.kind == "streamingingestion" and p.entity_kind == "table" and p.value.get("IsEnabled")
    )


def data_connection_spec(
    schema: KustoSchema, mapping: str = "RawReadings_mapping"
) -> dict[str, Any]:
    """ARM properties of the cluster and of its `Microsoft.Kusto/.../dataConnections` (EventHub)."""
    found = schema.mappings[mapping]
    system = sorted(
        e.path.removeprefix("$.") for e in found.entries if e.path.startswith("$.x-opt-")
    )
    streaming = found.table in streaming_tables(schema)
    return {
        "cluster": {
            "identity": {"type": "SystemAssigned"},
            "properties": {"enableStreamingIngest": streaming, "publicNetworkAccess": "Disabled"},
        },
        "dataConnection": {
            "kind": "EventHub",
            "properties": {
                "tableName": found.table,
                "mappingRuleName": found.name,
                "dataFormat": found.kind.upper(),
                "eventSystemProperties": system,
                "compression": "None",
                "consumerGroup": CONSUMER_GROUP,
                "databaseRouting": "Single",
                "managedIdentityResourceId": "<the cluster's resource id: its system identity>",
                "eventHubResourceId": "<the event hub 'readings'>",
            },
        },
    }
