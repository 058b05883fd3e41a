// The VNet (design.md 2.1): the Container Apps subnet, whose only way out to the internet
// is the NAT gateway's one static IP that Driver allow-lists, an NSG that lets the apps
// dial Driver's IP:port and the Azure service tags the platform needs and nothing else,
// a subnet for the private endpoints, and the private DNS zones they register in.

@description('Azure region of the network')
param location string

@description('Name prefix of every resource')
param prefix string

@description('Address space of the VNet')
param addressPrefix string = '10.40.0.0/16'

@description('Container Apps infrastructure subnet (workload profiles: /27 or larger)')
param appsSubnetPrefix string = '10.40.0.0/23'

@description('Subnet of the private endpoints')
param endpointsSubnetPrefix string = '10.40.2.0/24'

@description('Driver\'s public IP address (the gateway dials it)')
param driverAddress string

@description('Driver\'s TCP port')
param driverPort int

@description('Private DNS zones the private endpoints register in')
param privateDnsZoneNames array

@description('Log Analytics workspace of the diagnostic settings')
param workspaceId string

resource egressIp 'Microsoft.Network/publicIPAddresses@2026-03-01' = {
  name: '${prefix}-pip-egress'
  location: location
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  zones: [
    '1'
  ]
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource nat 'Microsoft.Network/natGateways@2026-03-01' = {
  name: '${prefix}-nat'
  location: location
  sku: {
    name: 'Standard'
  }
  zones: [
    '1'
  ]
  properties: {
    idleTimeoutInMinutes: 10
    publicIpAddresses: [
      {
        id: egressIp.id
      }
    ]
  }
}

resource appsNsg 'Microsoft.Network/networkSecurityGroups@2026-03-01' = {
  name: '${prefix}-nsg-apps'
  location: location
  properties: {
    securityRules: [
      {
        name: 'allow-driver-out'
        properties: {
          description: 'The gateway dials Driver (TLS 1.3, mutual auth)'
          priority: 100
          direction: 'Outbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: appsSubnetPrefix
          sourcePortRange: '*'
          destinationAddressPrefix: driverAddress
          destinationPortRange: string(driverPort)
        }
      }
      {
        name: 'allow-azure-platform-out'
        properties: {
          description: 'Entra ID tokens, Azure Monitor, image pulls, the Container Apps control plane'
          priority: 110
          direction: 'Outbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: appsSubnetPrefix
          sourcePortRange: '*'
          destinationAddressPrefixes: [
            'AzureActiveDirectory'
            'AzureMonitor'
            'AzureContainerRegistry'
            'MicrosoftContainerRegistry'
            'AzureFrontDoor.FirstParty'
          ]
          destinationPortRange: '443'
        }
      }
      {
        name: 'deny-internet-out'
        properties: {
          description: 'Nothing else leaves for the internet'
          priority: 4000
          direction: 'Outbound'
          access: 'Deny'
          protocol: '*'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationAddressPrefix: 'Internet'
          destinationPortRange: '*'
        }
      }
    ]
  }
}

resource endpointsNsg 'Microsoft.Network/networkSecurityGroups@2026-03-01' = {
  name: '${prefix}-nsg-endpoints'
  location: location
  properties: {
    securityRules: [
      {
        name: 'allow-vnet-in'
        properties: {
          description: 'Only the VNet reaches the private endpoints'
          priority: 100
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: 'VirtualNetwork'
          sourcePortRange: '*'
          destinationAddressPrefix: endpointsSubnetPrefix
          destinationPortRange: '*'
        }
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2026-03-01' = {
  name: '${prefix}-vnet'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'apps'
        properties: {
          addressPrefix: appsSubnetPrefix
          natGateway: {
            id: nat.id
          }
          networkSecurityGroup: {
            id: appsNsg.id
          }
          delegations: [
            {
              name: 'container-apps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: endpointsSubnetPrefix
          networkSecurityGroup: {
            id: endpointsNsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for zone in privateDnsZoneNames: {
  name: zone
  location: 'global'
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zone, i) in privateDnsZoneNames: {
  parent: zones[i]
  name: '${prefix}-vnet'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

resource egressIpDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: egressIp
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

resource natDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: nat
  properties: {
    workspaceId: workspaceId
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource appsNsgDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: appsNsg
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource endpointsNsgDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: endpointsNsg
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource vnetDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vnet
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
output vnetId string = vnet.id
output appsSubnetId string = vnet.properties.subnets[0].id
output endpointsSubnetId string = vnet.properties.subnets[1].id
output egressIpAddress string = egressIp.properties.ipAddress
