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


def test_a_result_over_truncationmaxrecords_is_a_partial_failure(engine: LocalKusto) -> None:
    # As the service answers (partial-query-failures, query-limits): 200, the first
    # `truncationmaxrecords` rows, then the failure bag in the rows ("InData") and in
    # DataSetCompletion.
    csl = "range x from 1 to 5 step 1"
    properties = json.dumps({"Options": {"truncationmaxrecords": 3}, "Parameters": {}})
    with KustoRestEndpoint(engine, "powerwatch") as endpoint:
        response = post(endpoint, {"db": "powerwatch", "csl": csl, "properties": properties})
        at_cap = post(
            endpoint,
            {
                "db": "powerwatch",
                "csl": csl,
                "properties": json.dumps({"Options": {"truncationmaxrecords": 5}}),
            },
        ).json()
    assert response.status_code == 200
    frames = response.json()
    primary = next(f for f in frames if f.get("TableKind") == "PrimaryResult")
    *rows, failure = primary["Rows"]
    assert rows == [[1], [2], [3]]
    [error] = failure["OneApiErrors"]
    assert error["error"]["code"] == "LimitsExceeded"
    assert "E_QUERY_RESULT_SET_TOO_LARGE" in error["error"]["@message"]
    assert error["error"]["@permanent"] is True
    completion = frames[-1]
    assert completion["FrameType"] == "DataSetCompletion"
    assert completion["HasErrors"] is True
    assert completion["OneApiErrors"] == failure["OneApiErrors"]
    assert at_cap[-1]["HasErrors"] is False  # exactly at the cap: nothing was cut
