"""One column list per stored-function call: the API's query texts, the stored functions
in kusto/ and the API's response models agree.

`powerwatch_api.queries` is the API's one list (each text is built from it); these checks
hold it to what the .kql functions return — with Microsoft's KQL analyzer (as ADX would
type it) and on the local engine — and to the models the services fill."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from powerwatch_api import models, queries
from powerwatch_kusto import LocalKusto, load_schema
from powerwatch_kusto.analysis import analyze

ROOT = Path(__file__).resolve().parents[2]
CALLS = [q for q in queries.ALL_QUERIES if q is not queries.PING]
SAMPLE: dict[str, Any] = {
    "fromTime": datetime(2026, 11, 25, tzinfo=UTC),
    "toTime": datetime(2026, 11, 26, tzinfo=UTC),
    "deviceId": "drv-01",
    "maxRows": 10,
    "afterTime": None,
    "afterReadingId": "",
    "binSize": timedelta(minutes=5),
    "silentAfter": timedelta(minutes=2),
}
#: Where a model field's name is not the column's in snake case.
RENAMED = {
    "Timestamp": "ts",
    "StartTime": "start",
    "EndTime": "end",
    "Duration": "duration_s",
    "LastTimestamp": "last_reading_at",
}
MODELS = {
    "CriticalEvents": models.CriticalEvent,
    "PowerIncidents": models.Incident,
    "PowerSeriesByMinute": models.PowerBin,
    "DeviceStatus": models.Device,
}


def test_each_query_text_projects_exactly_its_columns() -> None:
    for query in queries.ALL_QUERIES:
        last = query.text.strip().splitlines()[-1]
        if query is queries.PING:
            continue
        assert last == f"| project {', '.join(query.columns)}", query.name
        declared = re.findall(r"(\w+):(\w+)", query.text.split(";")[0])
        assert tuple(declared) == query.parameters, query.name


@pytest.mark.slow
def test_the_analyzer_types_each_api_query_with_its_columns() -> None:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "@kusto").exists():
        pytest.skip("node or @kusto/language-service-next missing: run `make node`")
    schema = load_schema()
    analysis = analyze(schema, {f"api query: {q.name}": q.text for q in queries.ALL_QUERIES})
    for query in queries.ALL_QUERIES:
        found = analysis[f"api query: {query.name}"]
        assert not found.errors, found.describe()
        assert found.columns is not None
        assert tuple(name for name, _ in found.columns) == query.columns, query.name


def test_each_stored_function_returns_the_columns_the_api_reads() -> None:
    with LocalKusto() as engine:
        for query in CALLS:
            # The call without the API's `project`: the function's own output.
            call = query.text.rsplit("\n| project", 1)[0]
            names = {name for name, _ in query.parameters}
            result = engine.query(call, {k: v for k, v in SAMPLE.items() if k in names})
            missing = [c for c in query.columns if c not in result.columns]
            assert not missing, (query.name, result.columns)


def _snake(column: str) -> str:
    return RENAMED.get(column) or re.sub(r"(?<!^)(?=[A-Z])", "_", column).lower()


def test_each_response_model_has_a_field_per_column() -> None:
    assert set(MODELS) == {q.name for q in CALLS}
    for query in CALLS:
        fields = [f.name for f in msgspec.structs.fields(MODELS[query.name])]
        assert sorted(fields) == sorted(_snake(c) for c in query.columns), query.name
