// One Log Analytics workspace for every diagnostic setting, and the action group the
// alert rules (alerts.bicep) notify (design.md section 8).

@description('Azure region of the workspace')
param location string

@description('Name prefix of every resource')
param prefix string

@description('Days the workspace keeps logs')
param retentionDays int = 30

@description('On-call e-mail address the action group notifies')
param onCallEmail string

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: '${prefix}-log'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource onCall 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${prefix}-ag-oncall'
  location: 'global'
  properties: {
    groupShortName: 'pw-oncall'
    enabled: true
    emailReceivers: [
      {
        name: 'on-call'
        emailAddress: onCallEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource workspaceDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workspace
  properties: {
    workspaceId: workspace.id
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

output workspaceId string = workspace.id
output actionGroupId string = onCall.id
