"""The dashboard calls what kusto/ defines (the gateway record <-> mapping contract is in
tests/contracts/test_record_mapping.py: this package's tests import no other unit)."""

from __future__ import annotations

import json
import re

from powerwatch_kusto import KustoSchema


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
