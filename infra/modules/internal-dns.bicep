// The private DNS zone of the internal Container Apps environment: `*.<default domain>`
// resolves to the environment's static IP for callers in the VNet. A module of its own
// because the zone's name is the environment's default domain, a value known only once
// the environment exists, and a resource name must be known when the deployment starts.

@description('Name prefix of every resource')
param prefix string

@description('Default domain of the environment (the zone name)')
param zoneName string

@description('Static IP of the internal environment')
param staticIp string

@description('VNet whose callers resolve the zone')
param vnetId string

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: zoneName
  location: 'global'
}

resource wildcard 'Microsoft.Network/privateDnsZones/A@2024-06-01' = {
  parent: zone
  name: '*'
  properties: {
    ttl: 300
    aRecords: [
      {
        ipv4Address: staticIp
      }
    ]
  }
}

resource link 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: '${prefix}-vnet'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}
