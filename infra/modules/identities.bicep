// The two user-assigned identities of the container apps (design.md 2.4). The ADX
// cluster uses its system-assigned identity (adx.bicep).

@description('Azure region of the identities')
param location string

@description('Name prefix of every resource')
param prefix string

resource gateway 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${prefix}-id-gateway'
  location: location
}

resource api 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${prefix}-id-api'
  location: location
}

output gatewayId string = gateway.id
output gatewayPrincipalId string = gateway.properties.principalId
output gatewayClientId string = gateway.properties.clientId
output apiId string = api.id
output apiPrincipalId string = api.properties.principalId
output apiClientId string = api.properties.clientId
