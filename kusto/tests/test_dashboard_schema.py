"""The exported dashboard against the schema version it declares, and what its tiles read.

Microsoft's schema file (https://dataexplorer.azure.com/static/d/schema/52/dashboard.json)
cannot be had here: it is served only from that host and no public repository or package
carries it. `data/dashboard-v52-checked.schema.json` writes down the fields we check and
the source of each rule (its `$comment`); it is ours, not Microsoft's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from powerwatch_kusto import KustoSchema
from powerwatch_kusto.analysis import Analysis

CHECKED = Path(__file__).parent / "data" / "dashboard-v52-checked.schema.json"


def dashboard(schema: KustoSchema) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (schema.root / "dashboards" / "powerwatch.json").read_text(encoding="utf-8")
    )
    return loaded


def validator() -> jsonschema.Draft202012Validator:
    checked = json.loads(CHECKED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(checked)
    return jsonschema.Draft202012Validator(checked)


def test_dashboard_matches_the_declared_schema_version(schema: KustoSchema) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(dashboard(schema))
    ]
    assert not errors, "\n".join(errors)


def test_the_check_refuses_schema_20_shapes(schema: KustoSchema) -> None:
    old = dashboard(schema)
    old["tiles"][0]["visualOptions"]["xColumn"] = {"type": "specified", "value": "BinStart"}
    old["tiles"][1]["usedParamVariables"] = ["_device"]
    messages = [e.message for e in validator().iter_errors(old)]
    assert any("is not of type 'string', 'null'" in m for m in messages), messages
    assert any("usedParamVariables" in m for m in messages), messages


def test_ids_are_unique_and_references_resolve(schema: KustoSchema) -> None:
    board = dashboard(schema)
    ids = [x["id"] for key in ("tiles", "queries", "parameters", "pages") for x in board[key]]
    assert len(ids) == len(set(ids))
    queries = {q["id"] for q in board["queries"]}
    referenced = [t["queryRef"]["queryId"] for t in board["tiles"]]
    assert sorted(referenced) == sorted(queries)  # every query used, once
    for tile in board["tiles"]:
        layout = tile["layout"]
        assert layout["x"] + layout["width"] <= 24, tile["title"]  # the 24-column grid


def reads_raw(schema: KustoSchema, name: str) -> bool:
    """True when the function, or one it calls, reads the RawReadings table itself."""
    fn = schema.functions[name]
    if re.search(r"\bRawReadings\b", fn.body):
        return True
    return any(reads_raw(schema, dependency) for dependency in fn.dependencies)


def test_tiles_read_the_cheap_objects(schema: KustoSchema) -> None:
    called = {
        re.match(r"\s*(\w+)\(", q["text"]).group(1)  # type: ignore[union-attr]
        for q in dashboard(schema)["queries"]
    }
    raw = {name for name in called if reads_raw(schema, name)}
    assert raw == set()  # DeviceStatus reads the LatestValidReadings view
    assert "DeviceStatus" in called
    assert "PowerSeriesByMinute" in called  # the power tile reads PowerMinutes
    assert reads_raw(schema, "PowerSeries")  # the control: the check sees a raw scan


@pytest.mark.slow
def test_visual_columns_exist_in_the_tile_results(
    analysis: dict[str, Analysis], schema: KustoSchema
) -> None:
    board = dashboard(schema)
    for tile in board["tiles"]:
        options = tile["visualOptions"]
        named = [options.get("xColumn")] + (options.get("yColumns") or [])
        named += options.get("seriesColumns") or []
        named = [n for n in named if n]
        if not named:
            continue
        result = analysis[f"dashboard powerwatch.json: {tile['queryRef']['queryId']}"].columns
        assert result is not None
        assert set(named) <= {c for c, _ in result}, tile["title"]
