"""Which azure-mgmt-* model describes each resource type infra/ deploys.

The package's api-version folder (msrest packages ship one per version) or None (the
TypeSpec packages model one API version: sdk.api_versions reads which). A resource type
missing here is an `unknown-type` finding, so a new resource needs its model named.
"""

from __future__ import annotations

# Resource type (and kind, for discriminated types) -> (package, api-version folder or
# None for single-version packages, model class). Key = (type lower-cased, kind or "").
RESOURCE_MODELS: dict[tuple[str, str], tuple[str, str | None, str]] = {
    ("microsoft.kusto/clusters", ""): ("azure.mgmt.kusto", None, "Cluster"),
    ("microsoft.kusto/clusters/databases", "ReadWrite"): (
        "azure.mgmt.kusto",
        None,
        "ReadWriteDatabase",
    ),
    ("microsoft.kusto/clusters/databases/scripts", ""): ("azure.mgmt.kusto", None, "Script"),
    ("microsoft.kusto/clusters/databases/dataconnections", "EventHub"): (
        "azure.mgmt.kusto",
        None,
        "EventHubDataConnection",
    ),
    ("microsoft.kusto/clusters/databases/principalassignments", ""): (
        "azure.mgmt.kusto",
        None,
        "DatabasePrincipalAssignment",
    ),
    ("microsoft.kusto/clusters/managedprivateendpoints", ""): (
        "azure.mgmt.kusto",
        None,
        "ManagedPrivateEndpoint",
    ),
    ("microsoft.eventhub/namespaces", ""): ("azure.mgmt.eventhub", None, "EHNamespace"),
    ("microsoft.eventhub/namespaces/eventhubs", ""): ("azure.mgmt.eventhub", None, "Eventhub"),
    ("microsoft.eventhub/namespaces/eventhubs/consumergroups", ""): (
        "azure.mgmt.eventhub",
        None,
        "ConsumerGroup",
    ),
    ("microsoft.keyvault/vaults", ""): (
        "azure.mgmt.keyvault",
        None,
        "VaultCreateOrUpdateParameters",
    ),
    ("microsoft.app/managedenvironments", ""): (
        "azure.mgmt.appcontainers",
        None,
        "ManagedEnvironment",
    ),
    ("microsoft.app/managedenvironments/storages", ""): (
        "azure.mgmt.appcontainers",
        None,
        "ManagedEnvironmentStorage",
    ),
    ("microsoft.app/containerapps", ""): ("azure.mgmt.appcontainers", None, "ContainerApp"),
    ("microsoft.network/virtualnetworks", ""): ("azure.mgmt.network", None, "VirtualNetwork"),
    ("microsoft.network/networksecuritygroups", ""): (
        "azure.mgmt.network",
        None,
        "NetworkSecurityGroup",
    ),
    ("microsoft.network/natgateways", ""): ("azure.mgmt.network", None, "NatGateway"),
    ("microsoft.network/publicipaddresses", ""): ("azure.mgmt.network", None, "PublicIPAddress"),
    ("microsoft.network/privateendpoints", ""): ("azure.mgmt.network", None, "PrivateEndpoint"),
    ("microsoft.network/privateendpoints/privatednszonegroups", ""): (
        "azure.mgmt.network",
        None,
        "PrivateDnsZoneGroup",
    ),
    ("microsoft.network/privatednszones", ""): ("azure.mgmt.privatedns", None, "PrivateZone"),
    ("microsoft.network/privatednszones/virtualnetworklinks", ""): (
        "azure.mgmt.privatedns",
        None,
        "VirtualNetworkLink",
    ),
    ("microsoft.network/privatednszones/a", ""): ("azure.mgmt.privatedns", None, "RecordSet"),
    ("microsoft.operationalinsights/workspaces", ""): (
        "azure.mgmt.loganalytics",
        None,
        "Workspace",
    ),
    ("microsoft.storage/storageaccounts", ""): (
        "azure.mgmt.storage",
        None,
        "StorageAccountCreateParameters",
    ),
    ("microsoft.storage/storageaccounts/fileservices", ""): (
        "azure.mgmt.storage",
        None,
        "FileServiceProperties",
    ),
    ("microsoft.storage/storageaccounts/fileservices/shares", ""): (
        "azure.mgmt.storage",
        None,
        "FileShare",
    ),
    ("microsoft.managedidentity/userassignedidentities", ""): (
        "azure.mgmt.msi",
        "v2024_11_30",
        "Identity",
    ),
    ("microsoft.authorization/roleassignments", ""): (
        "azure.mgmt.authorization",
        "v2022_04_01",
        "RoleAssignmentCreateParameters",
    ),
    ("microsoft.insights/diagnosticsettings", ""): (
        "azure.mgmt.monitor",
        "v2021_05_01_preview",
        "DiagnosticSettingsResource",
    ),
    ("microsoft.insights/metricalerts", ""): (
        "azure.mgmt.monitor",
        "v2018_03_01",
        "MetricAlertResource",
    ),
    ("microsoft.insights/actiongroups", ""): (
        "azure.mgmt.monitor",
        "v2023_01_01",
        "ActionGroupResource",
    ),
}
