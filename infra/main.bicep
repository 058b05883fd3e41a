// Powerwatch on Azure (docs/design.md): one resource group holds the whole design.
// Build first (`make infra-build` writes build/powerwatch.kql, the merged KQL of kusto/),
// then deploy with main.bicepparam: docs/deploy.md.

@description('Azure region of every resource')
param location string = resourceGroup().location

@description('Short name prefix of every resource (lowercase letters, digits, dashes)')
@minLength(2)
@maxLength(10)
param prefix string

@description('Driver\'s public IP address: the gateway dials it, the NSG allows only it')
param driverAddress string

@description('Driver\'s TCP port')
param driverPort int = 7000

@description('Name or IP in Driver\'s certificate the gateway verifies')
param driverServerName string

@description('On-call e-mail address of the alert action group')
param onCallEmail string

@description('Registry server the images are pulled from (the identities need AcrPull there)')
param registryServer string

@description('Image tag (or @sha256 digest suffix) of both apps')
param imageTag string

@description('Entra ID application id URI of the API (the token audience)')
param apiAudience string

@description('ADX SKU: Standard_E2ads_v5 x 2 is the smallest SLA cluster (design.md 6)')
param adxSkuName string = 'Standard_E2ads_v5'

@description('ADX SKU tier: Standard, or Basic for Dev(No SLA)')
param adxSkuTier string = 'Standard'

@description('ADX instances')
param adxCapacity int = 2

@description('Event Hubs throughput units')
param throughputUnits int = 1

@description('Changes on every deployment, so the idempotent database scripts re-run')
param scriptTag string = utcNow()

@description('Stage 2 (docs/deploy.md): create the data connection once the managed private endpoint to Event Hubs is approved')
param connectEventHubs bool = true

@description('Stage 2 (docs/deploy.md): deploy the apps and their alert rules once the images, certificates and allow-list are in place')
param deployApps bool = true

// One name for each contract with the rest of the repository; tests/infra checks them
// against kusto/ (table, mapping, consumer group), the pipelines (image repositories) and
// the apps' settings (environment variables).
var databaseName = 'powerwatch'
var hubName = 'readings'
var adxConsumerGroup = 'adx-powerwatch'
var tableName = 'RawReadings'
var mappingName = 'RawReadings_mapping'
var eventSystemProperties = [
  'x-opt-enqueued-time'
]
var gatewayRepository = 'powerwatch/gateway'
var apiRepository = 'powerwatch/api'
var schemaScript = loadTextContent('build/powerwatch.kql')

var suffix = uniqueString(resourceGroup().id)
var compactPrefix = replace(prefix, '-', '')
// The private DNS zone of each private endpoint's service (Microsoft's table "Azure
// Private Endpoint private DNS zone values"), passed to each module by name: the order
// of the list the network module creates them from means nothing.
var eventHubsDnsZone = 'privatelink.servicebus.windows.net'
var keyVaultDnsZone = 'privatelink.vaultcore.azure.net'
var filesDnsZone = 'privatelink.file.core.windows.net'
// ADX's cluster endpoint also needs the storage zones of its ingestion (blob, queue, table).
var kustoDnsZone = 'privatelink.${location}.kusto.windows.net'
var blobDnsZone = 'privatelink.blob.core.windows.net'
var queueDnsZone = 'privatelink.queue.core.windows.net'
var tableDnsZone = 'privatelink.table.core.windows.net'
var privateDnsZones = [
  eventHubsDnsZone
  keyVaultDnsZone
  filesDnsZone
  kustoDnsZone
  blobDnsZone
  queueDnsZone
  tableDnsZone
]

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    prefix: prefix
    onCallEmail: onCallEmail
  }
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  params: {
    location: location
    prefix: prefix
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: {
    location: location
    prefix: prefix
    driverAddress: driverAddress
    driverPort: driverPort
    privateDnsZoneNames: privateDnsZones
    workspaceId: monitoring.outputs.workspaceId
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    name: take('${prefix}-kv-${suffix}', 24)
    gatewayPrincipalId: identities.outputs.gatewayPrincipalId
    endpointsSubnetId: network.outputs.endpointsSubnetId
    dnsZoneId: resourceId('Microsoft.Network/privateDnsZones', keyVaultDnsZone)
    workspaceId: monitoring.outputs.workspaceId
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    location: location
    prefix: prefix
    throughputUnits: throughputUnits
    hubName: hubName
    adxConsumerGroup: adxConsumerGroup
    gatewayPrincipalId: identities.outputs.gatewayPrincipalId
    endpointsSubnetId: network.outputs.endpointsSubnetId
    dnsZoneId: resourceId('Microsoft.Network/privateDnsZones', eventHubsDnsZone)
    workspaceId: monitoring.outputs.workspaceId
  }
}

module adx 'modules/adx.bicep' = {
  name: 'adx'
  params: {
    location: location
    clusterName: take('${compactPrefix}adx${suffix}', 22)
    skuName: adxSkuName
    skuTier: adxSkuTier
    capacity: adxCapacity
    databaseName: databaseName
    schemaScript: schemaScript
    scriptTag: scriptTag
    connectEventHubs: connectEventHubs
    eventHubsNamespaceId: eventHubs.outputs.namespaceId
    eventHubId: eventHubs.outputs.hubId
    eventHubName: eventHubs.outputs.hubName
    consumerGroup: eventHubs.outputs.consumerGroup
    tableName: tableName
    mappingName: mappingName
    eventSystemProperties: eventSystemProperties
    apiClientId: identities.outputs.apiClientId
    endpointsSubnetId: network.outputs.endpointsSubnetId
    dnsZoneIds: [
      resourceId('Microsoft.Network/privateDnsZones', kustoDnsZone)
      resourceId('Microsoft.Network/privateDnsZones', blobDnsZone)
      resourceId('Microsoft.Network/privateDnsZones', queueDnsZone)
      resourceId('Microsoft.Network/privateDnsZones', tableDnsZone)
    ]
    workspaceId: monitoring.outputs.workspaceId
  }
}

module spool 'modules/spool-storage.bicep' = {
  name: 'spool-storage'
  params: {
    location: location
    name: take('${compactPrefix}spool${suffix}', 24)
    endpointsSubnetId: network.outputs.endpointsSubnetId
    dnsZoneId: resourceId('Microsoft.Network/privateDnsZones', filesDnsZone)
    workspaceId: monitoring.outputs.workspaceId
  }
}

module apps 'modules/containerapps.bicep' = if (deployApps) {
  name: 'containerapps'
  params: {
    location: location
    prefix: prefix
    appsSubnetId: network.outputs.appsSubnetId
    vnetId: network.outputs.vnetId
    workspaceId: monitoring.outputs.workspaceId
    registryServer: registryServer
    gatewayRepository: gatewayRepository
    apiRepository: apiRepository
    imageTag: imageTag
    gatewayIdentityId: identities.outputs.gatewayId
    gatewayClientId: identities.outputs.gatewayClientId
    apiIdentityId: identities.outputs.apiId
    apiClientId: identities.outputs.apiClientId
    vaultUri: vault.outputs.vaultUri
    spoolServer: spool.outputs.server
    spoolShare: spool.outputs.shareName
    driverHost: driverAddress
    driverPort: driverPort
    driverServerName: driverServerName
    eventHubsHost: eventHubs.outputs.namespaceHost
    eventHubName: eventHubs.outputs.hubName
    kustoUri: adx.outputs.clusterUri
    kustoDatabase: databaseName
    apiAudience: apiAudience
  }
}

module alerts 'modules/alerts.bicep' = if (deployApps) {
  name: 'alerts'
  params: {
    prefix: prefix
    clusterId: adx.outputs.clusterId
    eventHubsNamespaceId: eventHubs.outputs.namespaceId
    apiAppId: apps.outputs.apiAppId
    actionGroupId: monitoring.outputs.actionGroupId
  }
}

@description('The static egress IP Driver\'s operators allow-list')
output egressIpAddress string = network.outputs.egressIpAddress

@description('The API\'s internal address')
output apiFqdn string = deployApps ? apps.outputs.apiFqdn : ''
