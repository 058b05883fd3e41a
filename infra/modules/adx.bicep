// Azure Data Explorer (design.md 1.3-1.5, 2.3): the cluster (streaming ingestion, its
// system-assigned identity, no public network access, a private endpoint for the API and
// analysts, a managed private endpoint to Event Hubs), the powerwatch database, the KQL
// of kusto/ run by two database scripts (the managed-identity policy, then the merged
// schema bundle), the Event Hubs data connection of the spec in design.md 2.3, and the
// API identity as database Viewer.

@description('Azure region of the cluster')
param location string

@description('Name of the cluster (4-22 lowercase letters and digits, globally unique)')
param clusterName string

@description('Cluster SKU, e.g. Standard_E2ads_v5 (production) or Dev(No SLA)_Standard_E2a_v4')
param skuName string

@description('SKU tier: Standard, or Basic for a Dev(No SLA) SKU')
param skuTier string = 'Standard'

@description('Instances (2 is the smallest SLA cluster)')
param capacity int = 2

@description('Name of the database')
param databaseName string

@description('The merged KQL of kusto/ (make infra-build writes it; the Bicep build embeds it)')
param schemaScript string

@description('Change to re-run the database scripts with unchanged text')
param scriptTag string

@description('Namespace of the event hub the data connection reads')
param eventHubsNamespaceId string

@description('The event hub the data connection reads')
param eventHubId string

@description('Name of that event hub')
param eventHubName string

@description('The consumer group dedicated to the data connection')
param consumerGroup string

@description('Table, mapping and format of the data connection (kusto/tables/RawReadings.kql)')
param tableName string

@description('Ingestion mapping of the table')
param mappingName string

@description('Event Hubs system properties the mapping reads ($.x-opt-...)')
param eventSystemProperties array

@description('Create the data connection (after the managed private endpoint is approved)')
param connectEventHubs bool

@description('Client id of the API identity (database Viewer)')
param apiClientId string

@description('Subnet of the private endpoints')
param endpointsSubnetId string

@description('Private DNS zones of the ADX private endpoint (cluster, blob, queue, table)')
param dnsZoneIds array

@description('Log Analytics workspace of the diagnostic settings')
param workspaceId string

// Built-in role "Azure Event Hubs Data Receiver" (Azure built-in roles, Analytics).
var dataReceiverRoleId = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'

resource cluster 'Microsoft.Kusto/clusters@2025-02-14' = {
  name: clusterName
  location: location
  sku: {
    name: skuName
    tier: skuTier
    capacity: capacity
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    enableStreamingIngest: true
    publicNetworkAccess: 'Disabled'
    enableDiskEncryption: true
    enableDoubleEncryption: true
    enablePurge: false
    restrictOutboundNetworkAccess: 'Enabled'
    allowedFqdnList: []
    trustedExternalTenants: []
  }
}

resource database 'Microsoft.Kusto/clusters/databases@2025-02-14' = {
  parent: cluster
  name: databaseName
  location: location
  kind: 'ReadWrite'
  properties: {
    softDeletePeriod: 'P365D'
    hotCachePeriod: 'P31D'
  }
}

// The data connection authenticates as the cluster's system identity; the database's
// managed-identity policy must allow that use (managed identity policy, usage DataConnection).
resource identityPolicy 'Microsoft.Kusto/clusters/databases/scripts@2025-02-14' = {
  parent: database
  name: 'managed-identity-policy'
  properties: {
    scriptContent: '.alter-merge database ${databaseName} policy managed_identity ```[{"ObjectId": "system", "AllowedUsages": "DataConnection"}]```'
    continueOnErrors: false
    forceUpdateTag: scriptTag
  }
}

// Tables, mapping, functions, policies, views: the one merged script `make infra-build` makes.
resource schema 'Microsoft.Kusto/clusters/databases/scripts@2025-02-14' = {
  parent: database
  name: 'powerwatch-schema'
  properties: {
    scriptContent: schemaScript
    continueOnErrors: false
    forceUpdateTag: scriptTag
  }
  dependsOn: [
    identityPolicy
  ]
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2026-01-01' existing = {
  name: '${last(split(eventHubsNamespaceId, '/'))}/${eventHubName}'
}

resource clusterReceives 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventHubId, cluster.id, dataReceiverRoleId)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiverRoleId)
    principalId: cluster.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Event Hubs has public access off, so the cluster reaches it through a managed private
// endpoint (the Event Hubs side approves the connection: docs/deploy.md).
resource toEventHubs 'Microsoft.Kusto/clusters/managedPrivateEndpoints@2025-02-14' = {
  parent: cluster
  name: 'eventhubs'
  properties: {
    privateLinkResourceId: eventHubsNamespaceId
    groupId: 'namespace'
    requestMessage: 'ADX data connection of Powerwatch'
  }
}

resource readings 'Microsoft.Kusto/clusters/databases/dataConnections@2025-02-14' = if (connectEventHubs) {
  parent: database
  name: 'readings'
  location: location
  kind: 'EventHub'
  properties: {
    eventHubResourceId: eventHubId
    consumerGroup: consumerGroup
    tableName: tableName
    mappingRuleName: mappingName
    dataFormat: 'JSON'
    eventSystemProperties: eventSystemProperties
    compression: 'None'
    databaseRouting: 'Single'
    managedIdentityResourceId: cluster.id
  }
  dependsOn: [
    schema
    clusterReceives
    toEventHubs
  ]
}

resource apiViewer 'Microsoft.Kusto/clusters/databases/principalAssignments@2025-02-14' = {
  parent: database
  name: 'api-viewer'
  properties: {
    principalId: apiClientId
    principalType: 'App'
    role: 'Viewer'
    tenantId: subscription().tenantId
  }
}

module endpoint 'private-endpoint.bicep' = {
  name: '${clusterName}-pe'
  params: {
    location: location
    name: '${clusterName}-pe'
    subnetId: endpointsSubnetId
    targetId: cluster.id
    groupId: 'cluster'
    dnsZoneIds: dnsZoneIds
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cluster
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output clusterId string = cluster.id
output clusterUri string = cluster.properties.uri
