// Key Vault (design.md 2.1): RBAC authorization, purge protection, no public network
// access (a private endpoint). It holds the gateway's client certificate and key and
// Driver's CA bundle; only the gateway identity may read secrets (Key Vault Secrets User).

@description('Azure region of the vault')
param location string

@description('Name of the vault (3-24 characters, globally unique)')
param name string

@description('Principal id of the gateway identity (Key Vault Secrets User)')
param gatewayPrincipalId string

@description('Subnet of the private endpoints')
param endpointsSubnetId string

@description('Resource id of privatelink.vaultcore.azure.net')
param dnsZoneId string

@description('Log Analytics workspace of the diagnostic settings')
param workspaceId string

// Built-in role "Key Vault Secrets User" (Azure built-in roles, Security).
var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      bypass: 'None'
      defaultAction: 'Deny'
    }
  }
}

resource gatewayReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, gatewayPrincipalId, secretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: gatewayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

module endpoint 'private-endpoint.bicep' = {
  name: '${name}-pe'
  params: {
    location: location
    name: '${name}-pe'
    subnetId: endpointsSubnetId
    targetId: vault.id
    groupId: 'vault'
    dnsZoneIds: [
      dnsZoneId
    ]
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
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

output vaultUri string = vault.properties.vaultUri
output vaultId string = vault.id
