"""Each private endpoint registers in the private DNS zones of its service.

Microsoft's table "Azure Private Endpoint private DNS zone values"
(https://learn.microsoft.com/azure/private-link/private-endpoint-dns) gives the zones of
each private link resource type and subresource (the endpoint's group id). For every
call of modules/private-endpoint.bicep, the zones are followed from the module's
dnsZoneId(s) param to what main.bicep passes for it (`resourceId` of a zone whose name
is a var, an index into a list var, or a literal) and compared with that table. A zone
given to the wrong service breaks name resolution in the VNet only once deployed, so
broken copies show the check catches a swap, both with named zones and with the list
read by index that main.bicep used before.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from infra_testkit import Run, body, dump, module_params, replace_once, resource

ZONE_TYPE = "Microsoft.Network/privateDnsZones"
ENDPOINT_MODULE = "modules/private-endpoint.bicep"

# Microsoft's table (Commercial): (private link resource type, subresource) -> zones.
# {regionName} is the full region name, e.g. westeurope.
TABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("Microsoft.KeyVault/vaults", "vault"): ("privatelink.vaultcore.azure.net",),
    ("Microsoft.EventHub/namespaces", "namespace"): ("privatelink.servicebus.windows.net",),
    ("Microsoft.Storage/storageAccounts", "file"): ("privatelink.file.core.windows.net",),
    ("Microsoft.Kusto/clusters", "cluster"): (
        "privatelink.{regionName}.kusto.windows.net",
        "privatelink.blob.core.windows.net",
        "privatelink.queue.core.windows.net",
        "privatelink.table.core.windows.net",
    ),
}


@dataclass(frozen=True)
class Endpoint:
    where: str  # file:symbol of the private-endpoint.bicep call
    target: str  # resource type of its targetId
    group: str  # its groupId
    zones: tuple[str, ...]  # names of the zones main.bicep passes it, sorted


def resolve(main: dict[str, Any], value: Any) -> Any:
    """A main.bicep expression followed through its vars and list indexing.

    pycep keeps an identifier and a string literal alike, so a string naming a var is
    read as that var (a zone name has dots, so no zone is mistaken for a var).
    """
    variables = main.get("variables", {})
    if isinstance(value, str) and value in variables:
        return resolve(main, variables[value]["value"])
    if isinstance(value, list):
        return [resolve(main, item) for item in value]
    if isinstance(value, dict):
        operator = value.get("operator", {})
        if operator.get("type") == "index_accessor":
            listed = resolve(main, operator["operands"]["operand_1"])
            index = operator["operands"]["operand_2"]
            if isinstance(listed, list) and isinstance(index, int) and index < len(listed):
                return resolve(main, listed[index])
    return value


def region_named(zone: str) -> str:
    # main.bicep's `location` is every resource's region (test_kusto_zone_is_the_clusters_region).
    return zone.replace("${location}", "{regionName}")


def zone_name(main: dict[str, Any], zone_id: Any) -> str:
    """The zone name of `resourceId('Microsoft.Network/privateDnsZones', name)`."""
    function = zone_id.get("function", {}) if isinstance(zone_id, dict) else {}
    params = function.get("parameters", {})
    if function.get("type") != "resource_id" or params.get("resource_type") != ZONE_TYPE:
        return f"<not a private DNS zone id: {zone_id!r}>"
    if params.get("resource_group_name") or params.get("subscription_id"):
        return f"<a zone outside the resource group: {zone_id!r}>"
    name = resolve(main, params.get("resource_name_1"))
    return region_named(name) if isinstance(name, str) else f"<unresolved: {name!r}>"


def caller_params(trees: dict[str, Any], file: str) -> dict[str, Any]:
    """The params main.bicep passes to the module in file."""
    calls = [
        body(module["config"])["params"]
        for module in trees["main.bicep"].get("modules", {}).values()
        if posixpath.normpath(module["detail"]["path"]) == file
    ]
    assert len(calls) == 1, f"main.bicep calls {file} {len(calls)} times"
    found: dict[str, Any] = calls[0]
    return found


def passed_zone_ids(trees: dict[str, Any], file: str, dns_zone_ids: Any) -> Iterator[Any]:
    """What main.bicep passes for a module's dnsZoneIds, through the module's own params."""
    declared = trees[file].get("parameters", {})
    items = dns_zone_ids if isinstance(dns_zone_ids, list) else [dns_zone_ids]
    for item in items:
        if isinstance(item, str) and item in declared:
            passed = caller_params(trees, file).get(item)
            yield from passed if isinstance(passed, list) else [passed]
        else:
            yield item


def target_type(tree: dict[str, Any], target_id: Any) -> str:
    """The resource type of `<symbol>.id`, a resource of the same file."""
    operator = target_id.get("operator", {}) if isinstance(target_id, dict) else {}
    operands = operator.get("operands", {})
    symbol = operands.get("operand_1")
    if operator.get("type") != "property_accessor" or operands.get("operand_2") != "id":
        return f"<not a resource id: {target_id!r}>"
    declared = tree.get("resources", {}).get(symbol)
    return declared["type"].split("@")[0] if declared else f"<no resource {symbol!r}>"


def endpoints(trees: dict[str, Any]) -> list[Endpoint]:
    """Every call of modules/private-endpoint.bicep, with the zones main.bicep gives it."""
    main = trees["main.bicep"]
    found: list[Endpoint] = []
    for file, tree in sorted(trees.items()):
        for symbol, module in tree.get("modules", {}).items():
            path = posixpath.join(posixpath.dirname(file), module["detail"]["path"])
            if posixpath.normpath(path) != ENDPOINT_MODULE:
                continue
            params = body(module["config"])["params"]
            group = params["groupId"]
            if group in tree.get("parameters", {}):
                group = f"<param {group}>"  # the table needs the literal group id
            zone_ids = passed_zone_ids(trees, file, params["dnsZoneIds"])
            zones = tuple(sorted(zone_name(main, zone_id) for zone_id in zone_ids))
            target = target_type(tree, params["targetId"])
            found.append(Endpoint(f"{Path(file).name}:{symbol}", target, group, zones))
    return found


def created_zones(trees: dict[str, Any]) -> list[str]:
    """The zones main.bicep has the network module create (network.bicep's zones loop)."""
    names = resolve(trees["main.bicep"], module_params(trees, "network")["privateDnsZoneNames"])
    return [region_named(n) if isinstance(n, str) else f"<unresolved: {n!r}>" for n in names]


def zone_problems(trees: dict[str, Any]) -> list[str]:
    """Each endpoint's zones against Microsoft's table and against the zones created."""
    problems: list[str] = []
    created = created_zones(trees)
    used: set[str] = set()
    for endpoint in endpoints(trees):
        expected = TABLE.get((endpoint.target, endpoint.group))
        if expected is None:
            message = f"{endpoint.target} {endpoint.group!r} is not in the table of this test"
            problems.append(f"{endpoint.where}: {message}")
        elif endpoint.zones != tuple(sorted(expected)):
            problems.append(
                f"{endpoint.where}: {endpoint.target} {endpoint.group!r} registers in "
                f"{list(endpoint.zones)}; Microsoft's table gives {sorted(expected)}"
            )
        for zone in endpoint.zones:
            if zone not in created:
                problems.append(f"{endpoint.where}: {zone} is not a zone the network creates")
        used.update(endpoint.zones)
    for zone in created:
        if zone not in used:
            problems.append(f"main.bicep: the network creates {zone}, which no endpoint uses")
    if len(set(created)) != len(created):
        problems.append(f"main.bicep: the network creates a zone twice: {created}")
    return problems


# --- infra/ ---------------------------------------------------------------------------


def test_every_private_endpoint_is_found(trees: dict[str, Any]) -> None:
    found = {e.where: (e.target, e.group) for e in endpoints(trees)}
    assert found == {
        "adx.bicep:endpoint": ("Microsoft.Kusto/clusters", "cluster"),
        "eventhubs.bicep:endpoint": ("Microsoft.EventHub/namespaces", "namespace"),
        "keyvault.bicep:endpoint": ("Microsoft.KeyVault/vaults", "vault"),
        "spool-storage.bicep:endpoint": ("Microsoft.Storage/storageAccounts", "file"),
    }


def test_every_private_endpoint_gets_its_services_zones(trees: dict[str, Any]) -> None:
    assert zone_problems(trees) == []
    zones = {e.where: e.zones for e in endpoints(trees)}
    assert zones["keyvault.bicep:endpoint"] == ("privatelink.vaultcore.azure.net",)
    assert len(zones["adx.bicep:endpoint"]) == 4


def test_kusto_zone_is_the_clusters_region(trees: dict[str, Any]) -> None:
    # {regionName} of the Kusto zone is main.bicep's `location`: the cluster's too.
    assert "location" in trees["main.bicep"]["parameters"]
    assert module_params(trees, "adx")["location"] == "location"
    assert resource(trees, "modules/adx.bicep", "cluster")["location"] == "location"
    created = resolve(trees["main.bicep"], module_params(trees, "network")["privateDnsZoneNames"])
    assert "privatelink.${location}.kusto.windows.net" in created


def test_adx_reaches_event_hubs_by_a_managed_private_endpoint(trees: dict[str, Any]) -> None:
    """adx.bicep's other group id 'namespace': the cluster's managed private endpoint.

    It lives in ADX's managed network, not in the VNet, and its type has no DNS zone
    property (azure-mgmt-kusto's ManagedPrivateEndpointProperties: privateLinkResourceId,
    privateLinkResourceRegion, groupId, requestMessage), so it takes none of our zones.
    """
    adx = trees["modules/adx.bicep"]
    managed = [
        symbol
        for symbol, declared in adx["resources"].items()
        if declared["type"].split("@")[0] == "Microsoft.Kusto/clusters/managedPrivateEndpoints"
    ]
    assert managed == ["toEventHubs"]
    props = resource(trees, "modules/adx.bicep", "toEventHubs")["properties"]
    allowed = {"privateLinkResourceId", "privateLinkResourceRegion", "groupId", "requestMessage"}
    assert set(props) <= allowed
    # Its target is the Event Hubs namespace, and 'namespace' is that type's subresource.
    assert props["privateLinkResourceId"] == "eventHubsNamespaceId"
    passed = module_params(trees, "adx")["eventHubsNamespaceId"]["operator"]["operands"]
    assert passed["operand_1"] == "eventHubs"
    assert passed["operand_2"]["operator"]["operands"]["operand_2"] == "namespaceId"
    output = trees["modules/eventhubs.bicep"]["outputs"]["namespaceId"]["value"]
    namespace_type = target_type(trees["modules/eventhubs.bicep"], output)
    assert (namespace_type, props["groupId"]) in TABLE


# --- broken copies -----------------------------------------------------------------

NAMED_ZONE = re.compile(r"^var (\w+DnsZone) = ('[^']*')\n", re.MULTILINE)
ZONE_LIST = re.compile(r"^var privateDnsZones = \[\n(.*?)^\]", re.MULTILINE | re.DOTALL)


def by_index(text: str) -> str:
    """main.bicep as it was before the zones had names (but for comments): one literal
    list, read by index."""
    literals = dict(NAMED_ZONE.findall(text))
    listed = ZONE_LIST.search(text)
    assert listed is not None
    assert literals
    order = listed.group(1).split()
    text = text.replace(listed.group(1), "".join(f"  {literals[name]}\n" for name in order))
    text = NAMED_ZONE.sub("", text)
    for index, name in enumerate(order):
        named = f"resourceId('{ZONE_TYPE}', {name})"
        assert named in text, named
        text = text.replace(named, f"resourceId('{ZONE_TYPE}', privateDnsZones[{index}])")
    assert not re.search(r"\b\w+DnsZone\b", text)
    return text


def swap_lines(text: str, first: str, second: str) -> str:
    pair = f"  {first}\n  {second}\n"
    assert text.count(pair) == 1, pair
    return text.replace(pair, f"  {second}\n  {first}\n")


def test_by_index_rewrite_is_followed(bicepcheck: Run, infra_copy: Path) -> None:
    # The check reads the pre-refactor form too: unswapped, it finds nothing.
    main = infra_copy / "main.bicep"
    main.write_text(by_index(main.read_text(encoding="utf-8")), encoding="utf-8")
    assert "privateDnsZones[1])" in main.read_text(encoding="utf-8")
    assert zone_problems(dump(bicepcheck, infra_copy)) == []


def test_named_zones_may_be_listed_in_any_order(bicepcheck: Run, infra_copy: Path) -> None:
    main = infra_copy / "main.bicep"
    text = swap_lines(main.read_text(encoding="utf-8"), "eventHubsDnsZone", "keyVaultDnsZone")
    main.write_text(text, encoding="utf-8")
    assert zone_problems(dump(bicepcheck, infra_copy)) == []


SERVICEBUS = "'privatelink.servicebus.windows.net'"
VAULTCORE = "'privatelink.vaultcore.azure.net'"


def swap_named(text: str) -> str:
    swaps = {
        f"var eventHubsDnsZone = {SERVICEBUS}": f"var eventHubsDnsZone = {VAULTCORE}",
        f"var keyVaultDnsZone = {VAULTCORE}": f"var keyVaultDnsZone = {SERVICEBUS}",
    }
    for old, new in swaps.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def swap_by_index(text: str) -> str:
    return swap_lines(by_index(text), SERVICEBUS, VAULTCORE)


@pytest.mark.parametrize(
    "breaks",
    [
        pytest.param(swap_named, id="named-values-swapped"),
        pytest.param(swap_by_index, id="list-read-by-index-swapped"),
    ],
)
def test_swapped_zones_are_reported(
    bicepcheck: Run, infra_copy: Path, breaks: Callable[[str], str]
) -> None:
    main = infra_copy / "main.bicep"
    main.write_text(breaks(main.read_text(encoding="utf-8")), encoding="utf-8")
    problems = zone_problems(dump(bicepcheck, infra_copy))
    assert problems == [
        "eventhubs.bicep:endpoint: Microsoft.EventHub/namespaces 'namespace' registers in "
        "['privatelink.vaultcore.azure.net']; Microsoft's table gives "
        "['privatelink.servicebus.windows.net']",
        "keyvault.bicep:endpoint: Microsoft.KeyVault/vaults 'vault' registers in "
        "['privatelink.servicebus.windows.net']; Microsoft's table gives "
        "['privatelink.vaultcore.azure.net']",
    ]


def test_a_wrong_adx_zone_is_reported(bicepcheck: Run, infra_copy: Path) -> None:
    replace_once(
        infra_copy / "main.bicep",
        f"resourceId('{ZONE_TYPE}', tableDnsZone)",
        f"resourceId('{ZONE_TYPE}', filesDnsZone)",
    )
    problems = zone_problems(dump(bicepcheck, infra_copy))
    assert len(problems) == 2, problems
    assert problems[0].startswith("adx.bicep:endpoint: Microsoft.Kusto/clusters 'cluster'")
    assert "'privatelink.file.core.windows.net'" in problems[0]
    assert problems[1] == (
        "main.bicep: the network creates privatelink.table.core.windows.net, which no endpoint uses"
    )


def test_a_zone_the_network_does_not_create_is_reported(bicepcheck: Run, infra_copy: Path) -> None:
    replace_once(infra_copy / "main.bicep", "  filesDnsZone\n", "")
    problems = zone_problems(dump(bicepcheck, infra_copy))
    assert problems == [
        "spool-storage.bicep:endpoint: privatelink.file.core.windows.net is not a zone the "
        "network creates"
    ]
