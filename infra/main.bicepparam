// One environment: production, one Driver (design.md 6). Values marked "set" are the
// operator's: docs/deploy.md says where each comes from.
using './main.bicep'

param prefix = 'pw-prod'
param location = 'westeurope'
param driverAddress = '203.0.113.10'
param driverPort = 7000
param driverServerName = 'driver.example.net'
param onCallEmail = 'oncall@example.net'
param registryServer = 'powerwatch.azurecr.io'
param imageTag = 'ci'
param apiAudience = 'api://powerwatch-events'
param adxSkuName = 'Standard_E2ads_v5'
param adxSkuTier = 'Standard'
param adxCapacity = 2
param throughputUnits = 1
