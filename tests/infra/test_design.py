"""The resources infra/ deploys against design.md and the diagram.

Every deployed type belongs to a component the diagram draws and design.md 1.8 lists,
every resource with exportable logs or metrics has a diagnostic setting, the role
assignments are design.md 2.4's three, each on its one resource, and the settings the
design names (SAS off, TLS 1.2, no public access, streaming, replicas, probes, Key Vault
references, the NAT gateway as the only way out) are the ones deployed.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from typing import Any

import pytest
from infra_testkit import ROOT, app_container, body, deployed_types, resource

# --- the resources against design.md and the diagram ----------------------------------

# Every resource type the Bicep deploys -> the design component it is part of. None:
# plumbing of a component drawn as a boundary, not a node (VNet, subnets' NSGs, DNS
# zones, role and diagnostic wiring). A type missing here fails the test.
SERVICE_OF_TYPE: dict[str, str | None] = {
    "Microsoft.EventHub/namespaces": "Event Hubs",
    "Microsoft.EventHub/namespaces/eventhubs": "Event Hubs",
    "Microsoft.EventHub/namespaces/eventhubs/consumergroups": "Event Hubs",
    "Microsoft.Kusto/clusters": "Azure Data Explorer",
    "Microsoft.Kusto/clusters/databases": "Azure Data Explorer",
    "Microsoft.Kusto/clusters/databases/scripts": "Azure Data Explorer",
    "Microsoft.Kusto/clusters/databases/dataConnections": "Azure Data Explorer",
    "Microsoft.Kusto/clusters/databases/principalAssignments": "Azure Data Explorer",
    "Microsoft.Kusto/clusters/managedPrivateEndpoints": "private endpoints",
    "Microsoft.App/managedEnvironments": "Container Apps",
    "Microsoft.App/managedEnvironments/storages": "Container Apps",
    "Microsoft.App/containerApps": "Container Apps",
    # The gateway's spool volume: drawn inside the gateway node ("disk spool").
    "Microsoft.Storage/storageAccounts": "Container Apps",
    "Microsoft.Storage/storageAccounts/fileServices": "Container Apps",
    "Microsoft.Storage/storageAccounts/fileServices/shares": "Container Apps",
    "Microsoft.Network/natGateways": "NAT gateway",
    "Microsoft.Network/publicIPAddresses": "NAT gateway",
    "Microsoft.Network/privateEndpoints": "private endpoints",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "private endpoints",
    "Microsoft.KeyVault/vaults": "Key Vault",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "managed identities",
    "Microsoft.OperationalInsights/workspaces": "Log Analytics",
    "Microsoft.Insights/metricAlerts": "alert rules",
    "Microsoft.Insights/actionGroups": "alert rules",
    "Microsoft.Network/virtualNetworks": None,
    "Microsoft.Network/networkSecurityGroups": None,
    "Microsoft.Network/privateDnsZones": None,
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": None,
    "Microsoft.Network/privateDnsZones/A": None,
    "Microsoft.Authorization/roleAssignments": None,
    "Microsoft.Insights/diagnosticSettings": None,
}
# Diagram node class -> component. None: not deployed by infra/ (Driver, consumers,
# dashboards in the browser; ADX tables come from the database script).
SERVICE_OF_NODE: dict[str, str | None] = {
    "EventHubs": "Event Hubs",
    "DataExplorerClusters": "Azure Data Explorer",
    "Table": "Azure Data Explorer",
    "ContainerApps": "Container Apps",
    "Nat": "NAT gateway",
    "PrivateEndpoint": "private endpoints",
    "KeyVaults": "Key Vault",
    "ManagedIdentities": "managed identities",
    "LogAnalyticsWorkspaces": "Log Analytics",
    "Alerts": "alert rules",
    "Server": None,
    "Users": None,
    "Dashboard": None,
}


def diagram_nodes() -> set[str]:
    tree = ast.parse((ROOT / "diagrams/azure_architecture.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("diagrams.")
        for alias in node.names
    }
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    return imported & called - {"Cluster", "Edge"}


def design_types() -> set[str]:
    text = (ROOT / "docs/design.md").read_text(encoding="utf-8")
    section = text.split("### 1.8 Infrastructure as code", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(Microsoft\.[A-Za-z]+/[A-Za-z/]+)`", section))


def test_every_deployed_type_belongs_to_a_design_component(trees: dict[str, Any]) -> None:
    types = deployed_types(trees)
    assert types - set(SERVICE_OF_TYPE) == set()
    assert set(SERVICE_OF_TYPE) - types == set(), "mapped but no longer deployed"


def test_diagram_names_the_components_the_bicep_deploys(trees: dict[str, Any]) -> None:
    nodes = diagram_nodes()
    assert nodes - set(SERVICE_OF_NODE) == set(), "a diagram node with no component"
    drawn = {SERVICE_OF_NODE[n] for n in nodes} - {None}
    deployed = {SERVICE_OF_TYPE[t] for t in deployed_types(trees)} - {None}
    assert drawn == deployed


def test_design_lists_the_resource_types_the_bicep_deploys(trees: dict[str, Any]) -> None:
    assert design_types() == deployed_types(trees)


# --- diagnostic settings on every resource that has them ------------------------------

# Resource types whose logs or metrics Azure Monitor exports through diagnostic settings
# (Azure Monitor reference: supported-logs/<type> and supported-metrics/<type>, "DS
# Export: Yes"). Private DNS zones are left out: their metrics are not exportable.
DIAGNOSABLE = {
    "Microsoft.EventHub/namespaces",
    "Microsoft.Kusto/clusters",
    "Microsoft.KeyVault/vaults",
    "Microsoft.App/managedEnvironments",
    "Microsoft.App/containerApps",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.Storage/storageAccounts/fileServices",
    "Microsoft.OperationalInsights/workspaces",
    "Microsoft.Network/virtualNetworks",
    "Microsoft.Network/networkSecurityGroups",
    "Microsoft.Network/publicIPAddresses",
    "Microsoft.Network/natGateways",
}


def undiagnosed(trees: dict[str, Any]) -> set[str]:
    """file:symbol of each diagnosable resource no diagnostic setting is scoped to."""
    missing = set()
    for file, tree in trees.items():
        resources = tree.get("resources", {})
        scoped = {
            r["config"].get("scope")
            for r in resources.values()
            if r["type"].startswith("Microsoft.Insights/diagnosticSettings")
            and r["config"].get("properties", {}).get("workspaceId")
        }
        for symbol, r in resources.items():
            diagnosable = r["type"].split("@")[0] in DIAGNOSABLE and not r.get("existing")
            if diagnosable and symbol not in scoped:
                missing.add(f"{file}:{symbol}")
    return missing


def test_every_diagnosable_resource_sends_to_log_analytics(trees: dict[str, Any]) -> None:
    assert undiagnosed(trees) == set()
    assert deployed_types(trees) >= DIAGNOSABLE


def test_a_resource_without_diagnostics_is_found(trees: dict[str, Any]) -> None:
    broken = copy.deepcopy(trees)
    del broken["modules/network.bicep"]["resources"]["natDiagnostics"]
    assert undiagnosed(broken) == {"modules/network.bicep:nat"}


# --- role assignments: the three of design.md 2.4, nothing broader --------------------

# Built-in role ids (Azure built-in roles reference) -> (role, resource type of its scope).
ROLES = {
    "2b629674-e913-4c01-ae53-ef4638d8f975": (
        "Azure Event Hubs Data Sender",
        "Microsoft.EventHub/namespaces/eventhubs",
    ),
    "a638d3c7-ab3a-418d-83e6-5f17a39d4fde": (
        "Azure Event Hubs Data Receiver",
        "Microsoft.EventHub/namespaces/eventhubs",
    ),
    "4633458b-17de-408a-b874-0445c86b69e6": ("Key Vault Secrets User", "Microsoft.KeyVault/vaults"),
}


def role_assignments(trees: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(role id, scope's resource type, principal expression) of every role assignment."""
    found = []
    for tree in trees.values():
        resources = tree.get("resources", {})
        names = {k: v["value"] for k, v in tree.get("variables", {}).items()}
        for r in resources.values():
            if not r["type"].startswith("Microsoft.Authorization/roleAssignments"):
                continue
            props = body(r["config"])["properties"]
            role = props["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
            scope = resources[r["config"]["scope"]]["type"].split("@")[0]
            principal = props["principalId"]
            found.append((names.get(role, role), scope, json.dumps(principal, sort_keys=True)))
    return found


def role_problems(trees: dict[str, Any]) -> list[str]:
    assignments = role_assignments(trees)
    problems = [
        f"role {role} is not one of design.md 2.4"
        for role, _, _ in assignments
        if role not in ROLES
    ]
    problems += [
        f"{ROLES[role][0]} scoped to {scope}, not {ROLES[role][1]}"
        for role, scope, _ in assignments
        if role in ROLES and scope != ROLES[role][1]
    ]
    if sorted(role for role, _, _ in assignments) != sorted(ROLES):
        problems.append(
            f"roles assigned {sorted(r for r, _, _ in assignments)}, one each of {sorted(ROLES)}"
        )
    return problems


def test_role_assignments_are_the_designs_and_scoped_to_one_resource(
    trees: dict[str, Any],
) -> None:
    assert role_problems(trees) == []
    principals = {ROLES[role][0]: principal for role, _, principal in role_assignments(trees)}
    assert principals["Azure Event Hubs Data Sender"] == '"gatewayPrincipalId"'
    assert principals["Key Vault Secrets User"] == '"gatewayPrincipalId"'
    assert "cluster" in principals["Azure Event Hubs Data Receiver"]


def test_a_namespace_wide_role_is_refused(trees: dict[str, Any]) -> None:
    broken = copy.deepcopy(trees)
    broken["modules/eventhubs.bicep"]["resources"]["gatewaySends"]["config"]["scope"] = "namespace"
    assert role_problems(broken) == [
        "Azure Event Hubs Data Sender scoped to Microsoft.EventHub/namespaces, "
        "not Microsoft.EventHub/namespaces/eventhubs"
    ]


def test_a_broader_role_is_refused(trees: dict[str, Any]) -> None:
    broken = copy.deepcopy(trees)
    variables = broken["modules/keyvault.bicep"]["variables"]
    variables["secretsUserRoleId"]["value"] = "b24988ac-6180-42a0-ab88-20f7382dd24c"  # Contributor
    problems = role_problems(broken)
    assert "role b24988ac-6180-42a0-ab88-20f7382dd24c is not one of design.md 2.4" in problems


# --- the settings the issue and design.md name, one by one ------------------------------

# (file, resource symbol, dotted path, value): each a sentence of design.md 1-2.
DESIGN_SETTINGS = [
    ("modules/eventhubs.bicep", "namespace", "sku.tier", "Standard"),
    ("modules/eventhubs.bicep", "namespace", "properties.disableLocalAuth", True),
    ("modules/eventhubs.bicep", "namespace", "properties.minimumTlsVersion", "1.2"),
    ("modules/eventhubs.bicep", "namespace", "properties.publicNetworkAccess", "Disabled"),
    ("modules/adx.bicep", "cluster", "identity.type", "SystemAssigned"),
    ("modules/adx.bicep", "cluster", "properties.enableStreamingIngest", True),
    ("modules/adx.bicep", "cluster", "properties.publicNetworkAccess", "Disabled"),
    ("modules/adx.bicep", "apiViewer", "properties.role", "Viewer"),
    ("modules/keyvault.bicep", "vault", "properties.enableRbacAuthorization", True),
    ("modules/keyvault.bicep", "vault", "properties.enablePurgeProtection", True),
    ("modules/keyvault.bicep", "vault", "properties.publicNetworkAccess", "Disabled"),
    ("modules/containerapps.bicep", "environment", "properties.vnetConfiguration.internal", True),
    ("modules/containerapps.bicep", "gateway", "identity.type", "UserAssigned"),
    ("modules/containerapps.bicep", "api", "identity.type", "UserAssigned"),
    ("modules/containerapps.bicep", "gateway", "properties.template.scale.minReplicas", 1),
    ("modules/containerapps.bicep", "gateway", "properties.template.scale.maxReplicas", 1),
    ("modules/containerapps.bicep", "api", "properties.template.scale.minReplicas", 2),
    ("modules/containerapps.bicep", "api", "properties.configuration.ingress.external", False),
]


def setting(trees: dict[str, Any], file: str, symbol: str, path: str) -> Any:
    value: Any = resource(trees, file, symbol)
    for part in path.split("."):
        value = value[part]
    return value


def test_the_designs_settings(trees: dict[str, Any]) -> None:
    wrong = {
        f"{file}:{symbol}.{path}": setting(trees, file, symbol, path)
        for file, symbol, path, expected in DESIGN_SETTINGS
        if setting(trees, file, symbol, path) != expected
    }
    assert wrong == {}


def test_nat_gateway_is_the_apps_subnets_only_way_out(trees: dict[str, Any]) -> None:
    subnets = setting(trees, "modules/network.bicep", "vnet", "properties.subnets")
    apps = next(s for s in subnets if s["name"] == "apps")["properties"]
    nat_id = apps["natGateway"]["id"]["operator"]["operands"]
    assert (nat_id["operand_1"], nat_id["operand_2"]) == ("nat", "id")
    assert apps["delegations"][0]["properties"]["serviceName"] == "Microsoft.App/environments"
    rules = setting(trees, "modules/network.bicep", "appsNsg", "properties.securityRules")
    last = max(rules, key=lambda r: r["properties"]["priority"])["properties"]
    assert (last["access"], last["direction"], last["destinationAddressPrefix"]) == (
        "Deny",
        "Outbound",
        "Internet",
    )


@pytest.mark.parametrize(
    ("symbol", "source"),
    [
        ("gateway", "apps/gateway/src/powerwatch_gateway/service.py"),
        ("api", "api/src/powerwatch_api/controllers/health.py"),
    ],
)
def test_probes_call_the_apps_health_routes(
    trees: dict[str, Any], symbol: str, source: str
) -> None:
    probes = {p["type"]: p["httpGet"]["path"] for p in app_container(trees, symbol)["probes"]}
    assert probes == {"Liveness": "/healthz", "Readiness": "/readyz"}
    code = (ROOT / source).read_text(encoding="utf-8")
    assert all(f'"{path}"' in code for path in probes.values())


def test_gateway_tls_material_comes_from_key_vault(trees: dict[str, Any]) -> None:
    config = setting(trees, "modules/containerapps.bicep", "gateway", "properties.configuration")
    secrets = {s["name"]: s for s in config["secrets"]}
    assert secrets, "no secrets"
    for secret in secrets.values():
        assert "value" not in secret
        assert secret["keyVaultUrl"].startswith("${vaultUri}secrets/")
        assert secret["identity"] == "gatewayIdentityId"
    # The mounted files are the ones the gateway's settings point at.
    volumes = setting(trees, "modules/containerapps.bicep", "gateway", "properties.template")
    (tls,) = [v for v in volumes["volumes"] if v["storageType"] == "Secret"]
    files = {s["path"] for s in tls["secrets"]}
    assert {s["secretRef"] for s in tls["secrets"]} == set(secrets)
    env = {e["name"]: e["value"] for e in app_container(trees, "gateway")["env"]}
    pointed = {env[f"GATEWAY_DRIVER_{k}_FILE"].rsplit("/", 1)[1] for k in ("CA", "CERT", "KEY")}
    assert pointed == files
