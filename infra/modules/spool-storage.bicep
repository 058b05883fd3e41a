// The gateway's spool volume (design.md 1.1): an Azure Files premium share over NFS,
// zone-redundant, reached only through a private endpoint. NFS needs no account key,
// so shared-key access is off.

@description('Azure region of the storage account')
param location string

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique)')
param name string

@description('Size of the spool share in GiB (premium: 100 or more)')
param shareQuotaGiB int = 100

@description('Subnet of the private endpoints')
param endpointsSubnetId string

@description('Resource id of privatelink.file.core.windows.net')
param dnsZoneId string

@description('Log Analytics workspace of the diagnostic settings')
param workspaceId string

resource account 'Microsoft.Storage/storageAccounts@2026-09-01' = {
  // checkov:skip=CKV_AZURE_3: NFS 4.1 shares need secure transfer off (Azure Files NFS
  // docs); the share is reachable only through its private endpoint inside the VNet.
  // checkov:skip=CKV_AZURE_36: no trusted Microsoft service needs the share: network
  // rules deny everything and the gateway mounts it through the private endpoint.
  // checkov:skip=CKV_AZURE_206: zone-redundant (Premium_ZRS) is the design's replication;
  // premium file shares offer no geo-redundant SKU, and the spool is a buffer, not a store.
  name: name
  location: location
  kind: 'FileStorage'
  sku: {
    name: 'Premium_ZRS'
  }
  properties: {
    supportsHttpsTrafficOnly: false
    minimumTlsVersion: 'TLS1_2'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      bypass: 'None'
      defaultAction: 'Deny'
    }
  }
}

resource files 'Microsoft.Storage/storageAccounts/fileServices@2026-09-01' = {
  parent: account
  name: 'default'
  properties: {}
}

resource spool 'Microsoft.Storage/storageAccounts/fileServices/shares@2026-09-01' = {
  parent: files
  name: 'spool'
  properties: {
    enabledProtocols: 'NFS'
    rootSquash: 'RootSquash'
    shareQuota: shareQuotaGiB
  }
}

module endpoint 'private-endpoint.bicep' = {
  name: '${name}-pe'
  params: {
    location: location
    name: '${name}-pe'
    subnetId: endpointsSubnetId
    targetId: account.id
    groupId: 'file'
    dnsZoneIds: [
      dnsZoneId
    ]
  }
}

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: workspaceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

resource fileDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: files
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
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

output server string = '${account.name}.file.core.windows.net'
output shareName string = '/${account.name}/${spool.name}'
