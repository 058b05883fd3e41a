"""The local Kusto REST v2 endpoint speaks the protocol the real client expects."""

from __future__ import annotations

import json
from typing import Any

import httpx
from powerwatch_kusto import LocalKusto
from powerwatch_local.kusto_endpoint import KustoRestEndpoint


def post(endpoint: KustoRestEndpoint, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{endpoint.url}/v2/rest/query", json=body, timeout=30)


def test_frames_and_typed_parameters_from_a_json_string(engine: LocalKusto) -> None:
    csl = "declare query_parameters(n:long, d:string);\nprint N = n, D = d"
    properties = json.dumps({"Options": {}, "Parameters": {"n": "41", "d": 'x" | take 1'}})
    with KustoRestEndpoint(engine, "powerwatch") as endpoint:
        frames = post(endpoint, {"db": "powerwatch", "csl": csl, "properties": properties}).json()
    kinds = [(f["FrameType"], f.get("TableKind")) for f in frames]
    assert kinds == [
        ("DataSetHeader", None),
        ("DataTable", "QueryProperties"),
        ("DataTable", "PrimaryResult"),
        ("DataTable", "QueryCompletionInformation"),
        ("DataSetCompletion", None),
    ]
    primary = frames[2]
    assert [c["ColumnType"] for c in primary["Columns"]] == ["long", "string"]
    assert primary["Rows"] == [[41, 'x" | take 1']]


def test_errors_use_the_kusto_envelope(engine: LocalKusto) -> None:
    with KustoRestEndpoint(engine, "powerwatch") as endpoint:
        wrong_db = post(endpoint, {"db": "other", "csl": "print 1"})
        undeclared = post(
            endpoint,
            {"db": "powerwatch", "csl": "print 1", "properties": {"Parameters": {"x": "1"}}},
        )
        bad_literal = post(
            endpoint,
            {
                "db": "powerwatch",
                "csl": "declare query_parameters(t:datetime);\nprint t",
                "properties": {"Parameters": {"t": "yesterday"}},
            },
        )
    for response in (wrong_db, undeclared, bad_literal):
        assert response.status_code == 400
        assert response.json()["error"]["@permanent"] is True
    assert "not declared" in undeclared.json()["error"]["@message"]
