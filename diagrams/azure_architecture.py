"""Azure cloud architecture of Powerwatch: one cluster per trust boundary.

Data flows left to right: Driver's site -> gateway (Container Apps) -> Event Hubs ->
Azure Data Explorer (raw table, update policy, events, views) -> API -> consumers.
Edges carry protocol and authentication where they cross a boundary.
"""

from __future__ import annotations

from pathlib import Path

import _style
from diagrams import Cluster, Edge
from diagrams.azure.analytics import DataExplorerClusters, EventHubs
from diagrams.azure.compute import ContainerApps
from diagrams.azure.general import Dashboard, Table
from diagrams.azure.identity import ManagedIdentities
from diagrams.azure.managementgovernance import Alerts
from diagrams.azure.monitor import LogAnalyticsWorkspaces
from diagrams.azure.network import PrivateEndpoint
from diagrams.azure.networking import Nat
from diagrams.azure.security import KeyVaults
from diagrams.onprem.client import Users
from diagrams.onprem.compute import Server

NAME = "azure_architecture"

TRUST_EDGE = _style.RED
DATA_EDGE = _style.BLUE
CONTROL_EDGE = _style.GREY_DASHED
OPS_EDGE = _style.GREEN_DOTTED


def draw(out_dir: Path) -> Path:
    """Render the view into out_dir and return the PNG's path."""
    target = out_dir / NAME
    with _style.canvas(
        "Powerwatch on Azure: secure ingest, detection in ADX, events API",
        target,
        fontsize="22",
        nodesep="0.5",
        ranksep="1.1",
    ):
        with Cluster("Driver's site (external, known IP)"):
            driver = Server("Driver\nTLS 1.3 server\nknown IP:port")

        with Cluster("Consumers: Entra ID sign-in", graph_attr={"labelloc": "b"}):
            services = Users("consuming\nservices")
            analysts = Users("analysts")
            dashboards = Dashboard("ADX dashboards\n(in the browser)")

        with Cluster("Azure: VNet (no public inbound)"):
            nat = Nat("NAT gateway\nstatic egress IP")
            with Cluster("Container Apps environment (internal, workload profiles)"):
                api = ContainerApps("events API\n(Litestar)")
                gateway = ContainerApps("gateway\nvalidate, id, batch\ndisk spool")
            with Cluster("private endpoints subnet"):
                pe_eh = PrivateEndpoint("pe: Event Hubs")
                pe_adx = PrivateEndpoint("pe: ADX")
                pe_kv = PrivateEndpoint("pe: Key Vault")

        with Cluster("Azure PaaS (public network access disabled)"):
            hub = EventHubs("Event Hubs\nreadings hub\nkey = device_id\nlocal/SAS auth off")
            with Cluster("Azure Data Explorer cluster, database powerwatch"):
                adx = DataExplorerClusters("ADX engine\nstreaming ingestion")
                raw = Table("RawReadings")
                events = Table("PowerEvents\n(update policy,\ntransactional)")
                quarantine = Table("QuarantinedReadings")
                minutes = Table("PowerMinutes\n(update policy,\nper-minute sums)")
                views = Table("materialized views\nlatest reading per device,\nevents deduplicated")

        with Cluster("Identity and secrets"):
            vault = KeyVaults("Key Vault\nmTLS certs, Driver CA\nrotation")
            identities = ManagedIdentities("managed identities\nleast privilege")

        with Cluster("Operations"):
            logs = LogAnalyticsWorkspaces("Azure Monitor\nLog Analytics")
            alerts = Alerts("alert rules\naction groups")

        # Driver <-> gateway: the gateway dials out, so Driver allow-lists one static IP.
        driver >> Edge(label="NDJSON readings\nTLS 1.3, mutual auth", **TRUST_EDGE) >> nat
        nat >> Edge(label="outbound connect\nfrom static IP", **TRUST_EDGE) >> gateway

        (
            gateway
            >> Edge(label="AMQP/TLS 1.2+ :5671\nEntra token (Data Sender)", **DATA_EDGE)
            >> pe_eh
        )
        pe_eh >> Edge(**DATA_EDGE) >> hub
        (
            hub
            >> Edge(label="data connection, own consumer group\nMI: Data Receiver", **DATA_EDGE)
            >> adx
        )
        adx >> Edge(**DATA_EDGE) >> raw
        raw >> Edge(label="update policy\nPowerW > ThresholdW", **DATA_EDGE) >> events
        raw >> Edge(label="nulls, NaN", **DATA_EDGE) >> quarantine
        raw >> Edge(label="per minute", **DATA_EDGE) >> minutes
        raw >> Edge(**DATA_EDGE) >> views
        events >> Edge(**DATA_EDGE) >> views

        (
            api
            >> Edge(
                label="HTTPS, Entra token (Viewer)\nstored functions + query params", **DATA_EDGE
            )
            >> pe_adx
        )
        pe_adx >> Edge(**DATA_EDGE) >> adx
        services >> Edge(label="HTTPS, Entra ID bearer", **TRUST_EDGE) >> api
        analysts >> Edge(**TRUST_EDGE) >> dashboards
        (
            dashboards
            >> Edge(
                label="user's Entra token, VPN/ExpressRoute\nsame stored functions", **TRUST_EDGE
            )
            >> pe_adx
        )

        # The gateway pulls its client certificate and Driver's CA at start and on rotation.
        gateway >> Edge(label="get cert + CA\nMI: Key Vault Secrets User", **CONTROL_EDGE) >> pe_kv
        pe_kv >> Edge(**CONTROL_EDGE) >> vault
        gateway >> Edge(label="Entra tokens", **CONTROL_EDGE) >> identities
        api >> Edge(**CONTROL_EDGE) >> identities

        for source in (gateway, api, hub, adx):
            source >> Edge(**OPS_EDGE) >> logs
        (
            logs
            >> Edge(label="ingestion failures, lag,\nAPI errors, critical events", **OPS_EDGE)
            >> alerts
        )
    return target.with_suffix(".png")


if __name__ == "__main__":
    print(draw(Path(__file__).resolve().parent))
