// Container Apps (design.md 1.1, 1.6, 2.1): an internal workload-profiles environment in
// the VNet (egress through the NAT gateway's static IP), the gateway (no ingress, one
// replica with the NFS spool, Driver's TLS material from Key Vault mounted as files) and
// the events API (internal ingress, 2+ replicas, Entra ID auth, ADX through its private
// endpoint). Both run as their user-assigned identities; DefaultAzureCredential finds
// them by AZURE_CLIENT_ID.

@description('Azure region of the environment')
param location string

@description('Name prefix of every resource')
param prefix string

@description('Container Apps infrastructure subnet (delegated to Microsoft.App/environments)')
param appsSubnetId string

@description('VNet whose private DNS resolves the environment\'s internal domain')
param vnetId string

@description('Log Analytics workspace of the diagnostic settings')
param workspaceId string

@description('Registry server the images are pulled from, e.g. myregistry.azurecr.io')
param registryServer string

@description('Gateway image repository (what the pipelines build)')
param gatewayRepository string

@description('API image repository (what the pipelines build)')
param apiRepository string

@description('Image tag (or @sha256 digest suffix) to deploy')
param imageTag string

@description('Resource id of the gateway identity')
param gatewayIdentityId string

@description('Client id of the gateway identity (AZURE_CLIENT_ID for DefaultAzureCredential)')
param gatewayClientId string

@description('Resource id of the API identity')
param apiIdentityId string

@description('Client id of the API identity (AZURE_CLIENT_ID for DefaultAzureCredential)')
param apiClientId string

@description('Key Vault URI holding the gateway\'s client certificate, key and Driver\'s CA')
param vaultUri string

@description('NFS server of the spool share, <account>.file.core.windows.net')
param spoolServer string

@description('Spool share path, /<account>/<share>')
param spoolShare string

@description('Driver\'s address the gateway dials')
param driverHost string

@description('Driver\'s TCP port')
param driverPort int

@description('Name or IP the gateway verifies in Driver\'s certificate')
param driverServerName string

@description('Event Hubs namespace host the gateway sends to, <name>.servicebus.windows.net')
param eventHubsHost string

@description('Event hub the gateway sends to')
param eventHubName string

@description('ADX cluster URI the API queries')
param kustoUri string

@description('ADX database the API queries')
param kustoDatabase string

@description('Entra ID audience (application id URI) of the API')
param apiAudience string

var tlsDir = '/mnt/driver-tls'
var spoolDir = '/var/lib/powerwatch-gateway'

resource environment 'Microsoft.App/managedEnvironments@2026-07-01' = {
  name: '${prefix}-cae'
  location: location
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: appsSubnetId
      internal: true
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    zoneRedundant: true
  }
}

resource spoolStorage 'Microsoft.App/managedEnvironments/storages@2026-07-01' = {
  parent: environment
  name: 'spool'
  properties: {
    nfsAzureFile: {
      server: spoolServer
      shareName: spoolShare
      accessMode: 'ReadWrite'
    }
  }
}

// Callers in the VNet resolve the internal environment's apps through this zone.
module internalDns 'internal-dns.bicep' = {
  name: '${prefix}-cae-dns'
  params: {
    prefix: prefix
    zoneName: environment.properties.defaultDomain
    staticIp: environment.properties.staticIp
    vnetId: vnetId
  }
}

resource gateway 'Microsoft.App/containerApps@2026-07-01' = {
  name: '${prefix}-gateway'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${gatewayIdentityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: registryServer
          identity: gatewayIdentityId
        }
      ]
      secrets: [
        {
          name: 'driver-client-cert'
          keyVaultUrl: '${vaultUri}secrets/gateway-driver-client-cert'
          identity: gatewayIdentityId
        }
        {
          name: 'driver-client-key'
          keyVaultUrl: '${vaultUri}secrets/gateway-driver-client-key'
          identity: gatewayIdentityId
        }
        {
          name: 'driver-ca'
          keyVaultUrl: '${vaultUri}secrets/driver-ca'
          identity: gatewayIdentityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'gateway'
          image: '${registryServer}/${gatewayRepository}:${imageTag}'
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            {
              name: 'AZURE_CLIENT_ID'
              value: gatewayClientId
            }
            {
              name: 'GATEWAY_SINK'
              value: 'eventhubs'
            }
            {
              name: 'GATEWAY_EVENTHUBS_NAMESPACE'
              value: eventHubsHost
            }
            {
              name: 'GATEWAY_EVENTHUBS_NAME'
              value: eventHubName
            }
            {
              name: 'GATEWAY_DRIVER_HOST'
              value: driverHost
            }
            {
              name: 'GATEWAY_DRIVER_PORT'
              value: string(driverPort)
            }
            {
              name: 'GATEWAY_DRIVER_SERVER_NAME'
              value: driverServerName
            }
            {
              name: 'GATEWAY_DRIVER_CERT_FILE'
              value: '${tlsDir}/client.pem'
            }
            {
              name: 'GATEWAY_DRIVER_KEY_FILE'
              value: '${tlsDir}/client.key'
            }
            {
              name: 'GATEWAY_DRIVER_CA_FILE'
              value: '${tlsDir}/ca.pem'
            }
            {
              name: 'GATEWAY_DATA_DIR'
              value: spoolDir
            }
            {
              name: 'GATEWAY_HTTP_HOST'
              value: '0.0.0.0'
            }
            {
              name: 'GATEWAY_HTTP_PORT'
              value: '8080'
            }
            {
              name: 'GATEWAY_LOG_LEVEL'
              value: 'info'
            }
          ]
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: 8080
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 8080
              }
              periodSeconds: 10
              failureThreshold: 3
            }
          ]
          volumeMounts: [
            {
              volumeName: 'driver-tls'
              mountPath: tlsDir
            }
            {
              volumeName: 'spool'
              mountPath: spoolDir
            }
          ]
        }
      ]
      // One Driver stream, one spool writer: exactly one replica (design.md 1.1).
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
      volumes: [
        {
          name: 'driver-tls'
          storageType: 'Secret'
          secrets: [
            {
              secretRef: 'driver-client-cert'
              path: 'client.pem'
            }
            {
              secretRef: 'driver-client-key'
              path: 'client.key'
            }
            {
              secretRef: 'driver-ca'
              path: 'ca.pem'
            }
          ]
        }
        {
          name: 'spool'
          storageType: 'NfsAzureFile'
          storageName: spoolStorage.name
        }
      ]
    }
  }
}

resource api 'Microsoft.App/containerApps@2026-07-01' = {
  name: '${prefix}-api'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${apiIdentityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 8080
        transport: 'http'
        allowInsecure: false
      }
      registries: [
        {
          server: registryServer
          identity: apiIdentityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'api'
          image: '${registryServer}/${apiRepository}:${imageTag}'
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            {
              name: 'AZURE_CLIENT_ID'
              value: apiClientId
            }
            {
              name: 'POWERWATCH_API_HOST'
              value: '0.0.0.0'
            }
            {
              name: 'POWERWATCH_API_PORT'
              value: '8080'
            }
            {
              name: 'POWERWATCH_API_AUTH'
              value: 'entra'
            }
            {
              name: 'POWERWATCH_ENTRA_TENANT_ID'
              value: subscription().tenantId
            }
            {
              name: 'POWERWATCH_ENTRA_AUDIENCE'
              value: apiAudience
            }
            {
              name: 'POWERWATCH_KUSTO_CLUSTER_URL'
              value: kustoUri
            }
            {
              name: 'POWERWATCH_KUSTO_DATABASE'
              value: kustoDatabase
            }
            {
              name: 'POWERWATCH_API_LOG_LEVEL'
              value: 'info'
            }
          ]
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: 8080
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 8080
              }
              periodSeconds: 10
              failureThreshold: 3
            }
          ]
        }
      ]
      // Stateless: two replicas for availability, more on HTTP concurrency (design.md 6).
      scale: {
        minReplicas: 2
        maxReplicas: 4
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: '50'
              }
            }
          }
        ]
      }
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
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

resource gatewayDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: gateway
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

resource apiDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: api
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

output gatewayAppId string = gateway.id
output apiAppId string = api.id
output apiFqdn string = api.properties.configuration.ingress.fqdn
