"""Every resource against Microsoft's azure-mgmt-* models for its API version.

One broken copy per rule of infra/checks/bicepcheck/typecheck.py: the checker must name
the rule and the place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from infra_testkit import Run, replace_once


def test_infra_matches_the_sdk_models(bicepcheck: Run) -> None:
    done = bicepcheck("types")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(", 0 findings")
    resources = int(done.stdout.split()[-7])
    assert resources >= 40


BROKEN = [
    pytest.param(
        "modules/eventhubs.bicep",
        "Microsoft.EventHub/namespaces@2026-01-01' = {",
        "Microsoft.EventHub/namespace@2026-01-01' = {",
        "[unknown-type]",
        "Microsoft.EventHub/namespace:",
        id="unknown-type",
    ),
    pytest.param(
        "modules/adx.bicep",
        "'Microsoft.Kusto/clusters@2025-02-14'",
        "'Microsoft.Kusto/clusters@2019-01-21'",
        "[api-version]",
        "adx.bicep:cluster:",
        id="api-version",
    ),
    pytest.param(
        "modules/eventhubs.bicep",
        "disableLocalAuth: true",
        "disableLocalAuthentication: true",
        "[unknown-property]",
        "namespace.properties.disableLocalAuthentication",
        id="unknown-property",
    ),
    pytest.param(
        "modules/containerapps.bicep",
        "path: '/healthz'",
        "paths: '/healthz'",
        "[unknown-property]",
        "probes[0].httpGet.paths",
        id="unknown-nested-property",
    ),
    pytest.param(
        "modules/eventhubs.bicep",
        "partitionCount: partitionCount",
        "partitionCount: partitionCount\n    status: 'Active'\n    createdAt: '2026-01-01'",
        "[read-only]",
        "hub.properties.createdAt",
        id="read-only",
    ),
    pytest.param(
        "modules/adx.bicep",
        "compression: 'None'",
        "compression: 'Zip'",
        "[enum]",
        "readings.properties.compression",
        id="enum",
    ),
    pytest.param(
        "modules/network.bicep",
        "access: 'Deny'",
        "access: 'Block'",
        "[enum]",
        "securityRules[2].properties.access",
        id="enum-in-list",
    ),
    pytest.param(
        "modules/alerts.bicep",
        "'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'",
        "'odata.type': 'Microsoft.Azure.Monitor.SingleMetric'",
        "[enum]",
        "criteria.odata.type",
        id="enum-discriminator",
    ),
    pytest.param(
        "modules/adx.bicep",
        "kind: 'EventHub'",
        "kind: 'EventHubs'",
        "[unknown-type]",
        "kind 'EventHubs'",
        id="kind",
    ),
    pytest.param(
        "modules/eventhubs.bicep",
        "partitionCount: partitionCount",
        "partitionCount: 'many'",
        "[value-type]",
        "hub.properties.partitionCount",
        id="value-type",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "rule", "where"), BROKEN)
def test_broken_copy_is_refused(
    bicepcheck: Run, infra_copy: Path, file: str, old: str, new: str, rule: str, where: str
) -> None:
    replace_once(infra_copy / file, old, new)
    done = bicepcheck("types", infra_copy)
    assert done.returncode == 1
    found = [line for line in done.stdout.splitlines() if rule in line]
    assert found, done.stdout
    assert any(where in line for line in found), found
