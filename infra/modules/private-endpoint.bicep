// One private endpoint and its DNS zone group: the way every PaaS resource of the
// design is reached from the VNet (public network access is off on each).

@description('Azure region of the endpoint')
param location string

@description('Name of the private endpoint')
param name string

@description('Subnet of the private endpoints')
param subnetId string

@description('Resource the endpoint connects to')
param targetId string

@description('Sub-resource (group id) of the target, e.g. namespace, vault, cluster, file')
param groupId string

@description('Private DNS zones the endpoint registers its records in')
param dnsZoneIds array

resource endpoint 'Microsoft.Network/privateEndpoints@2026-03-01' = {
  name: name
  location: location
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2026-03-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [for (zoneId, i) in dnsZoneIds: {
      name: 'zone-${i}'
      properties: {
        privateDnsZoneId: zoneId
      }
    }]
  }
}
