"""infra/ against the rest of the repository: one name for each contract.

The data connection against kusto/ (and issue 14's spec when it is present), the apps'
environment against the gateway's and API's settings, and the image repositories
against what the pipelines build.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml
from infra_testkit import INFRA, ROOT, app_container, module_params, resource, variables
from powerwatch_api.settings import Settings as ApiSettings
from powerwatch_gateway import settings as gateway_settings
from powerwatch_kusto.bundle import render_bundle
from powerwatch_kusto.loader import load_schema

# Read by azure-identity's DefaultAzureCredential (ManagedIdentityCredential), not by
# the apps' settings: it selects the app's user-assigned identity.
SDK_ENV = {"AZURE_CLIENT_ID"}


# --- the data connection against kusto/ ---------------------------------------------


def test_data_connection_reads_kustos_table_mapping_and_system_properties(
    trees: dict[str, Any],
) -> None:
    names = variables(trees)
    mapping = load_schema().mappings[names["mappingName"]]
    assert mapping.table == names["tableName"]
    system = sorted(e.path.removeprefix("$.") for e in mapping.entries if "x-opt-" in e.path)
    assert names["eventSystemProperties"] == system
    params = module_params(trees, "adx")
    for param in ("tableName", "mappingName", "eventSystemProperties"):
        assert params[param] == param
    props = resource(trees, "modules/adx.bicep", "readings")["properties"]
    assert props["tableName"] == "tableName"
    assert props["mappingRuleName"] == "mappingName"
    assert props["eventSystemProperties"] == "eventSystemProperties"
    assert props["dataFormat"] == mapping.kind.upper()
    # System properties are not ingested from compressed events (design.md 2.3).
    assert props["compression"] == "None"


def test_data_connection_consumer_group_is_the_dedicated_one(trees: dict[str, Any]) -> None:
    names = variables(trees)
    hub = resource(trees, "modules/eventhubs.bicep", "consumerGroup")
    assert hub["name"] == "adxConsumerGroup"
    assert module_params(trees, "eventHubs")["adxConsumerGroup"] == "adxConsumerGroup"
    assert "adx" in names["adxConsumerGroup"]
    assert names["adxConsumerGroup"] != "$Default"


def test_data_connection_equals_issue_14_spec(trees: dict[str, Any]) -> None:
    spec_module = pytest.importorskip(
        "powerwatch_kusto.data_connection",
        reason="kusto's data-connection spec (issue 14) is not on this branch yet",
    )
    spec = spec_module.data_connection_spec(load_schema())["dataConnection"]
    names = variables(trees)
    props = resource(trees, "modules/adx.bicep", "readings")["properties"]
    assert spec["properties"]["consumerGroup"] == names["adxConsumerGroup"]
    assert spec["properties"]["tableName"] == names["tableName"]
    assert spec["properties"]["mappingRuleName"] == names["mappingName"]
    assert spec["properties"]["eventSystemProperties"] == names["eventSystemProperties"]
    for key in ("dataFormat", "compression", "databaseRouting"):
        assert props[key] == spec["properties"][key], key
    assert resource(trees, "modules/adx.bicep", "readings")["kind"] == spec["kind"]
    # The managed-identity policy script runs the command `make kusto-plan` prints.
    from powerwatch_kusto.deploy import identity_policy_command

    script = resource(trees, "modules/adx.bicep", "identityPolicy")["properties"]["scriptContent"]
    database = variables(trees)["databaseName"]
    assert script.replace("${databaseName}", database) == identity_policy_command(database)


# --- the apps' environment against their settings -------------------------------------


def app_env(trees: dict[str, Any], symbol: str) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in app_container(trees, symbol)["env"]}


def test_gateway_env_names_are_gateway_settings(trees: dict[str, Any]) -> None:
    env = app_env(trees, "gateway")
    options = {o.env: o for o in gateway_settings.OPTIONS}
    assert set(env) - SDK_ENV <= set(options), set(env) - SDK_ENV - set(options)
    assert set(env) >= SDK_ENV
    # Literal values parse as the gateway parses them (the rest are deploy-time expressions).
    for name in ("GATEWAY_SINK", "GATEWAY_HTTP_HOST", "GATEWAY_HTTP_PORT", "GATEWAY_LOG_LEVEL"):
        options[name].parse(env[name])
    # What the gateway requires for the Event Hubs sink and a Driver connection is set.
    assert env["GATEWAY_SINK"] == "eventhubs"
    for required in (
        "GATEWAY_EVENTHUBS_NAMESPACE",
        "GATEWAY_EVENTHUBS_NAME",
        "GATEWAY_DRIVER_HOST",
        "GATEWAY_DRIVER_CA_FILE",
        "GATEWAY_DRIVER_CERT_FILE",
        "GATEWAY_DRIVER_KEY_FILE",
    ):
        assert required in env, required


def test_api_env_loads_as_settings(trees: dict[str, Any]) -> None:
    env = app_env(trees, "api")
    source = (ROOT / "api/src/powerwatch_api/settings.py").read_text(encoding="utf-8")
    known = set(re.findall(r'"((?:POWERWATCH|OTEL)_[A-Z_]+)"', source))
    assert set(env) - SDK_ENV <= known, set(env) - SDK_ENV - known
    # Expressions get plausible deploy-time values; the whole set must load cleanly.
    deployed = {
        "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000000",
        "POWERWATCH_ENTRA_TENANT_ID": "00000000-0000-0000-0000-000000000001",
        "POWERWATCH_ENTRA_AUDIENCE": "api://powerwatch-events",
        "POWERWATCH_KUSTO_CLUSTER_URL": "https://pwadx.westeurope.kusto.windows.net",
        "POWERWATCH_KUSTO_DATABASE": "powerwatch",
    }
    literal = {k: v for k, v in env.items() if k not in deployed}
    assert set(deployed) <= set(env)
    settings = ApiSettings.from_env({**literal, **deployed})
    assert settings.auth.mode == "entra"
    assert settings.store.uses_kusto


# --- images against the pipelines ---------------------------------------------------


def test_image_repositories_are_what_the_pipelines_build(trees: dict[str, Any]) -> None:
    names = variables(trees)
    pipeline = yaml.safe_load((ROOT / "tekton/pipeline/python-ci.yaml").read_text("utf-8"))
    tekton_default = next(p for p in pipeline["spec"]["params"] if p["name"] == "image")
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text("utf-8"))
    built = {tekton_default["default"].split(":")[0], workflow["env"]["IMAGE"].split(":")[0]}
    # The API's image is the same pipeline run with the API's params (tekton/README.md).
    readme = (ROOT / "tekton/README.md").read_text(encoding="utf-8")
    built |= {m.split(":")[0] for m in re.findall(r"image=(powerwatch/[a-z]+:\w+)", readme)}
    assert {names["gatewayRepository"], names["apiRepository"]} == built
    apps = module_params(trees, "apps")
    assert apps["gatewayRepository"] == "gatewayRepository"
    assert apps["apiRepository"] == "apiRepository"


# --- the KQL bundle: built, not committed -------------------------------------------


def test_schema_script_is_the_bundle_make_infra_build_writes(trees: dict[str, Any]) -> None:
    loaded = trees["main.bicep"]["variables"]["schemaScript"]["value"]["function"]
    assert loaded["type"] == "load_text_content"
    built = (INFRA / loaded["parameters"]["file_path"]).resolve()
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = makefile.split("\ninfra-build:", 1)[1].split("\n\n", 1)[0]
    assert f"-m powerwatch_kusto.bundle -o {built.relative_to(ROOT).as_posix()}" in rule
    # Built output only: ignored by git, so the KQL is committed once, in kusto/.
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(built)], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0, f"{built} is not ignored by git"
    # make test runs infra-build first; a stale bundle would deploy old KQL.
    assert built.is_file(), "run `make infra-build` (make test does)"
    assert built.read_text(encoding="utf-8") == render_bundle(load_schema())
