"""The factory, the entry point and the OpenAPI document."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient
from powerwatch_api import Settings, create_app
from powerwatch_api.queries import ALL_QUERIES
from powerwatch_api.settings import ServerSettings, StoreSettings
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto

ROOT = Path(__file__).resolve().parents[2]


def test_local_store_is_the_default_and_loads_the_kql_scripts(tmp_path: Path) -> None:
    settings = Settings(
        store=StoreSettings(
            local_database=str(tmp_path / "db.duckdb"), kusto_root=str(ROOT / "kusto")
        )
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json() == {"status": "ready", "store": "local"}
        assert client.get("/api/v1/devices").json() == {"items": []}
    assert (tmp_path / "db.duckdb").exists()


def test_openapi_document_is_3_1_and_describes_every_operation(engine: LocalKusto) -> None:
    with TestClient(create_app(Settings(), store=LocalStore(engine=engine))) as client:
        doc = client.get("/schema/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    operations = {
        op["operationId"]: (path, op) for path, item in doc["paths"].items() for op in item.values()
    }
    assert set(operations) == {
        "listCriticalEvents",
        "listIncidents",
        "getPowerSeries",
        "listDevices",
        "liveness",
        "readiness",
    }
    _, events = operations["listCriticalEvents"]
    params = {p["name"]: p for p in events["parameters"]}
    assert params["device"]["schema"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$(?!\\n)"
    assert params["limit"]["schema"]["maximum"] == 1000
    assert "application/problem+json" in events["responses"]["400"]["content"]
    _, power = operations["getPowerSeries"]
    bins = {p["name"]: p for p in power["parameters"]}["bin"]["schema"]
    assert bins["enum"] == ["1m", "5m", "1h", "1d"]


def test_query_texts_declare_their_parameters_and_call_one_function() -> None:
    for query in ALL_QUERIES:
        if not query.parameters:
            continue
        declared = ", ".join(f"{name}:{kind}" for name, kind in query.parameters)
        normalized = " ".join(query.text.split())
        assert normalized.startswith(f"declare query_parameters({declared});"), query.name
        assert f"{query.name}(" in normalized


def test_query_parameters_match_the_deployed_function_signatures() -> None:
    from powerwatch_kusto import load_schema

    functions = load_schema().functions
    for query in ALL_QUERIES:
        if query.name not in functions:
            continue
        signature = {p.name: p.kql_type for p in functions[query.name].parameters}
        for name, kind in query.parameters:
            assert signature[name] == kind, (query.name, name)
        # Parameters the API leaves out must have defaults in the function.
        omitted = set(signature) - {name for name, _ in query.parameters}
        assert all(
            p.default is not None for p in functions[query.name].parameters if p.name in omitted
        )


def test_entry_point_refuses_bad_settings_with_a_clear_message() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "powerwatch_api"],
        env={"POWERWATCH_API_HOST": "0.0.0.0", "POWERWATCH_API_PORT": "x", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "POWERWATCH_API_PORT='x' is not an integer" in done.stderr
    assert "loopback-only" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_leaves_the_process_alone_unless_tuning_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from powerwatch_api import __main__ as entry

    runs: list[tuple[int, float, int]] = []
    monkeypatch.setattr(
        entry.uvicorn,
        "run",
        lambda app, **options: runs.append(
            (gc.get_freeze_count(), sys.getswitchinterval(), options["port"])
        ),
    )
    interval = sys.getswitchinterval()
    gc.unfreeze()
    try:
        entry.serve(create_app(Settings()), Settings())
        tuned = Settings(server=ServerSettings(gil_switch_interval_s=0.0002, gc_freeze=True))
        entry.serve(create_app(tuned), tuned)
    finally:
        gc.unfreeze()
        sys.setswitchinterval(interval)
    [(frozen, switch, port), (tuned_frozen, tuned_switch, _)] = runs
    assert (frozen, switch, port) == (0, interval, Settings().server.port)
    assert tuned_frozen > 0
    assert tuned_switch == pytest.approx(0.0002)


def test_opening_a_local_store_does_not_tune_the_process() -> None:
    interval = sys.getswitchinterval()
    with TestClient(create_app(Settings())) as client:
        assert client.get("/readyz").status_code == 200
        assert sys.getswitchinterval() == interval
