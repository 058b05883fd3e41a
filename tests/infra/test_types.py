"""Every resource against Microsoft's azure-mgmt-* models for its API version.

One broken copy per rule of infra/checks/bicepcheck/typecheck.py: the checker must name
the rule and the place.
"""

from __future__ import annotations

import re

import pytest
from infra_testkit import Run, copy_infra, replace_once


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
        "modules/adx.bicep",
        "    consumerGroup: consumerGroup\n",
        "",
        "[required]",
        "readings.properties: [required] EventHubConnectionProperties requires 'consumerGroup'",
        id="required",
    ),
    pytest.param(
        # An object literal with a property named "operator" is an object, not an expression.
        "modules/alerts.bicep",
        "          metricName: rule.metric\n",
        "",
        "[required]",
        "criteria.allOf[0]: [required] MetricCriteria requires 'metricName'",
        id="required-msrest-nested",
    ),
    pytest.param(
        "main.bicep",
        "    onCallEmail: onCallEmail\n",
        "    onCallEmail: onCallEmail\n    retentionDay: 30\n",
        "[module-param]",
        "main.bicep:monitoring: [module-param] monitoring.bicep declares no param 'retentionDay'",
        id="module-unknown-param",
    ),
    pytest.param(
        "main.bicep",
        "    onCallEmail: onCallEmail\n",
        "",
        "[module-param]",
        "main.bicep:monitoring: [module-param] monitoring.bicep requires param 'onCallEmail'",
        id="module-required-param",
    ),
    pytest.param(
        "main.bicep",
        "vaultUri: vault.outputs.vaultUri",
        "vaultUri: vault.outputs.vaultUrl",
        "[module-output]",
        "main.bicep:vault: [module-output] module vault has no output 'vaultUrl'",
        id="module-output",
    ),
    pytest.param(
        # How the internal DNS zone was first written: Bicep's BCP120, unseen by pycep.
        "modules/containerapps.bicep",
        "  name: '${prefix}-cae-dns'",
        "  name: environment.properties.defaultDomain",
        "[runtime-name]",
        "containerapps.bicep:internalDns: [runtime-name] name reads environment.properties",
        id="runtime-name",
    ),
    pytest.param(
        "main.bicep",
        "  name: 'adx'",
        "  name: 'adx-${eventHubs.outputs.hubName}'",
        "[runtime-name]",
        "main.bicep:adx: [runtime-name] name reads eventHubs.outputs",
        id="runtime-name-interpolated",
    ),
    pytest.param(
        "modules/monitoring.bicep",
        "  name: '${prefix}-log'",
        "  name: '${prefx}-log'",
        "[undefined-symbol]",
        "monitoring.bicep:workspace: [undefined-symbol] 'prefx' is not declared",
        id="undefined-in-interpolation",
    ),
    pytest.param(
        "modules/adx.bicep",
        "principalId: cluster.identity.principalId",
        "principalId: clustr.identity.principalId",
        "[undefined-symbol]",
        "adx.bicep:clusterReceives: [undefined-symbol] 'clustr' is not declared",
        id="undefined-accessor",
    ),
    pytest.param(
        "modules/adx.bicep",
        "    clusterReceives\n",
        "    clusterReceive\n",
        "[undefined-symbol]",
        "adx.bicep:readings: [undefined-symbol] 'clusterReceive' is not declared",
        id="undefined-depends-on",
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


@pytest.fixture(scope="module")
def broken_reports(bicepcheck: Run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each broken copy's report: one checker process for all of them (SDK imports once)."""
    roots = {}
    for case in BROKEN:
        file, old, new = case.values[:3]
        root = tmp_path_factory.mktemp(str(case.id)) / "infra"
        copy_infra(root)
        replace_once(root / str(file), str(old), str(new))
        roots[str(case.id)] = root
    done = bicepcheck("types", *roots.values())
    assert done.returncode == 1, done.stdout + done.stderr
    sections = re.split(r"^== (.+)$", done.stdout, flags=re.MULTILINE)[1:]
    by_root = dict(zip(sections[::2], sections[1::2], strict=True))
    return {case: by_root[str(root)] for case, root in roots.items()}


@pytest.mark.parametrize(("file", "old", "new", "rule", "where"), BROKEN)
def test_broken_copy_is_refused(
    broken_reports: dict[str, str],
    request: pytest.FixtureRequest,
    file: str,
    old: str,
    new: str,
    rule: str,
    where: str,
) -> None:
    report = broken_reports[request.node.callspec.id]
    findings = [line for line in report.splitlines() if "] " in line]
    # The break is the only finding: each copy differs from the clean infra/ by one edit.
    assert findings, report
    assert all(rule in line for line in findings), findings
    assert any(where in line for line in findings), findings
