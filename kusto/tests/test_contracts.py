"""The KQL side agrees with its neighbours: the gateway's output record and the dashboard."""

from __future__ import annotations

import json
import re

from powerwatch_gateway.model import OutputRecord
from powerwatch_kusto import KustoSchema


def test_mapping_covers_every_gateway_record_field(schema: KustoSchema) -> None:
    paths = {e.path for e in schema.mappings["RawReadings_mapping"].entries}
    fields = set(OutputRecord.__struct_fields__)
    assert {f"$.{name}" for name in fields} <= paths
    # Only the Event Hubs system property comes from outside the record.
    assert paths - {f"$.{name}" for name in fields} == {"$.x-opt-enqueued-time"}


def test_dashboard_tiles_call_stored_functions(schema: KustoSchema) -> None:
    dashboard = json.loads((schema.root / "dashboards" / "powerwatch.json").read_text())
    queries = {q["id"]: q for q in dashboard["queries"]}
    sources = {d["id"] for d in dashboard["dataSources"]}
    pages = {p["id"] for p in dashboard["pages"]}
    variables = {
        name
        for p in dashboard["parameters"]
        for name in (p.get("variableName"), p.get("beginVariableName"), p.get("endVariableName"))
        if name
    }
    titles = []
    for tile in dashboard["tiles"]:
        query = queries[tile["queryRef"]["queryId"]]
        assert query["dataSource"]["dataSourceId"] in sources
        assert tile["pageId"] in pages
        assert set(query["usedVariables"]) <= variables
        called = re.match(r"\s*(\w+)\(", query["text"])
        assert called is not None
        assert called.group(1) in schema.functions, tile["title"]
        titles.append(tile["title"].lower())
    for wanted in ("power over time", "events", "incidents", "silent"):
        assert any(wanted in t for t in titles), wanted
