// Event Hubs, Standard (design.md 1.2, 2.2): SAS keys off (Entra ID only), TLS 1.2
// minimum, no public network access (a private endpoint in the VNet), the readings hub
// with the design's 32 partitions and the ADX data connection's dedicated consumer group.

@description('Azure region of the namespace')
param location string

@description('Name prefix of every resource')
param prefix string

@description('Throughput units (1 MB/s or 1,000 events/s of ingress each)')
param throughputUnits int = 1

@description('Auto-inflate ceiling for catch-up after an outage')
param maximumThroughputUnits int = 4

@description('Name of the event hub the gateway sends to')
param hubName string

@description('Partitions of the hub (Standard: 1-32, fixed at creation)')
param partitionCount int = 32

@description('Hours the hub keeps events for ADX to catch up (Standard: up to 168)')
param retentionHours int = 168

@description('Consumer group read by the ADX data connection and nothing else')
param adxConsumerGroup string

@description('Principal id of the gateway identity (Azure Event Hubs Data Sender on the hub)')
param gatewayPrincipalId string

@description('Subnet of the private endpoints')
param endpointsSubnetId string

@description('Resource id of privatelink.servicebus.windows.net')
param dnsZoneId string

@description('Log Analytics workspace of the diagnostic settings')
param workspaceId string

// Built-in role "Azure Event Hubs Data Sender" (Azure built-in roles, Analytics).
var dataSenderRoleId = '2b629674-e913-4c01-ae53-ef4638d8f975'

resource namespace 'Microsoft.EventHub/namespaces@2026-01-01' = {
  name: '${prefix}-evhns'
  location: location
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: throughputUnits
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Disabled'
    isAutoInflateEnabled: true
    maximumThroughputUnits: maximumThroughputUnits
    zoneRedundant: true
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2026-01-01' = {
  parent: namespace
  name: hubName
  properties: {
    partitionCount: partitionCount
    retentionDescription: {
      cleanupPolicy: 'Delete'
      retentionTimeInHours: retentionHours
    }
  }
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2026-01-01' = {
  parent: hub
  name: adxConsumerGroup
  properties: {
    userMetadata: 'ADX data connection (RawReadings); no other reader'
  }
}

resource gatewaySends 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, gatewayPrincipalId, dataSenderRoleId)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSenderRoleId)
    principalId: gatewayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

module endpoint 'private-endpoint.bicep' = {
  name: '${prefix}-pe-evhns'
  params: {
    location: location
    name: '${prefix}-pe-evhns'
    subnetId: endpointsSubnetId
    targetId: namespace.id
    groupId: 'namespace'
    dnsZoneIds: [
      dnsZoneId
    ]
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
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

output namespaceId string = namespace.id
output namespaceHost string = '${namespace.name}.servicebus.windows.net'
output hubId string = hub.id
output hubName string = hub.name
output consumerGroup string = consumerGroup.name
