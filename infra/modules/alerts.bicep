// The metric alert rules of design.md section 8 that platform metrics can express. The
// gateway's Prometheus signals (Driver connection, bad input, spool backlog) and the
// critical-event / silent-device alerts (the alert relay) are planned: docs/deploy.md.

@description('Name prefix of every resource')
param prefix string

@description('ADX cluster the rules watch')
param clusterId string

@description('Event Hubs namespace the rules watch')
param eventHubsNamespaceId string

@description('The API app the rules watch')
param apiAppId string

@description('Action group the rules notify')
param actionGroupId string

var rules = [
  {
    name: 'adx-ingestion-failures'
    description: 'Ingestion failures: any failed ingestion in 5 min'
    severity: 2
    scope: clusterId
    namespace: 'Microsoft.Kusto/clusters'
    metric: 'IngestionResult'
    aggregation: 'Total'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT5M'
    dimensions: [
      {
        name: 'IngestionResultDetails'
        operator: 'Exclude'
        values: [
          'Success'
        ]
      }
    ]
  }
  {
    name: 'adx-detection-lag'
    description: 'Detection lag: ingestion latency above 60 s (queued) in 5 min'
    severity: 2
    scope: clusterId
    namespace: 'Microsoft.Kusto/clusters'
    metric: 'IngestionLatencyInSeconds'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 60
    window: 'PT5M'
    dimensions: []
  }
  {
    name: 'adx-discovery-latency'
    description: 'Consumer lag of the data connection: discovery latency above 60 s for 10 min'
    severity: 3
    scope: clusterId
    namespace: 'Microsoft.Kusto/clusters'
    metric: 'DiscoveryLatency'
    aggregation: 'Minimum'
    operator: 'GreaterThan'
    threshold: 60
    window: 'PT10M'
    dimensions: []
  }
  {
    name: 'adx-materialized-views'
    description: 'Materialized views: age above 10 min'
    severity: 3
    scope: clusterId
    namespace: 'Microsoft.Kusto/clusters'
    metric: 'MaterializedViewAgeSeconds'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 600
    window: 'PT15M'
    dimensions: []
  }
  {
    name: 'adx-cache-utilization'
    description: 'ADX capacity: cache utilization above 80% for 30 min'
    severity: 3
    scope: clusterId
    namespace: 'Microsoft.Kusto/clusters'
    metric: 'CacheUtilizationFactor'
    aggregation: 'Minimum'
    operator: 'GreaterThan'
    threshold: 80
    window: 'PT30M'
    dimensions: []
  }
  {
    name: 'adx-ingestion-utilization'
    description: 'ADX capacity: ingestion utilization above 80% for 30 min'
    severity: 3
    scope: clusterId
    namespace: 'Microsoft.Kusto/clusters'
    metric: 'IngestionUtilization'
    aggregation: 'Minimum'
    operator: 'GreaterThan'
    threshold: 80
    window: 'PT30M'
    dimensions: []
  }
  {
    name: 'adx-cpu'
    description: 'ADX capacity: CPU above 80% for 30 min'
    severity: 3
    scope: clusterId
    namespace: 'Microsoft.Kusto/clusters'
    metric: 'CPU'
    aggregation: 'Minimum'
    operator: 'GreaterThan'
    threshold: 80
    window: 'PT30M'
    dimensions: []
  }
  {
    name: 'eventhubs-throttling'
    description: 'Throttling: any throttled request for 5 min'
    severity: 3
    scope: eventHubsNamespaceId
    namespace: 'Microsoft.EventHub/namespaces'
    metric: 'ThrottledRequests'
    aggregation: 'Total'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT5M'
    dimensions: []
  }
  {
    name: 'api-server-errors'
    description: 'API errors: 5xx responses in 5 min'
    severity: 2
    scope: apiAppId
    namespace: 'Microsoft.App/containerApps'
    metric: 'Requests'
    aggregation: 'Total'
    operator: 'GreaterThan'
    threshold: 10
    window: 'PT5M'
    dimensions: [
      {
        name: 'statusCodeCategory'
        operator: 'Include'
        values: [
          '5xx'
        ]
      }
    ]
  }
]

resource alerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [for rule in rules: {
  name: '${prefix}-${rule.name}'
  location: 'global'
  properties: {
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      rule.scope
    ]
    evaluationFrequency: 'PT1M'
    windowSize: rule.window
    targetResourceType: rule.namespace
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: rule.name
          metricName: rule.metric
          metricNamespace: rule.namespace
          timeAggregation: rule.aggregation
          operator: rule.operator
          threshold: rule.threshold
          dimensions: rule.dimensions
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroupId
      }
    ]
  }
}]
