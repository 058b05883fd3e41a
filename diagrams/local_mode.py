"""Local mode (`make up`): the same code on one machine, each part standing in for a cloud one."""

from __future__ import annotations

from pathlib import Path

import _style
from diagrams import Cluster, Edge
from diagrams.generic.storage import Storage
from diagrams.onprem.client import Client
from diagrams.onprem.compute import Server
from diagrams.onprem.database import Duckdb
from diagrams.programming.language import Python

NAME = "local_mode"

FLOW = _style.BLUE


def draw(out_dir: Path) -> Path:
    """Render the view into out_dir and return the PNG's path."""
    target = out_dir / NAME
    with _style.canvas(
        "Powerwatch local mode: one command, no cloud (cloud counterpart in brackets)",
        target,
        fontsize="20",
        nodesep="0.6",
        ranksep="1.0",
    ):
        with Cluster("one machine, loopback only (127.0.0.1); dev certificates in .local/"):
            driver = Server("driver-sim\nTLS 1.3 mTLS server\n1 Hz per device, surges\n[Driver]")
            gateway = Python("gateway\nsame code as prod\n[Container App]")
            spool = Storage("spool directory\nNDJSON segments\n[Event Hubs]")
            with Cluster("powerwatch_local.serve: one process"):
                ingest = Python("spool consumer\ncheckpoint after commit\n[data connection]")
                engine = Duckdb("LocalKusto\nDuckDB + duckdb-kql\nsame kusto/*.kql\n[ADX]")
                api = Python("events API\nLocalStore\n[API Container App]")
            page = Client("live page\n[consumers, dashboards]")

        driver >> Edge(label="NDJSON over mTLS", **FLOW) >> gateway
        gateway >> Edge(label="append, fsync\nat-least-once", **FLOW) >> spool
        spool >> Edge(label="read from\ncheckpoint", **FLOW) >> ingest
        (
            ingest
            >> Edge(
                label="RawReadings + update-policy\nqueries: one transaction,\ndedup by ReadingId",
                **FLOW,
            )
            >> engine
        )
        engine >> Edge(label="stored functions\nwith parameters", **FLOW) >> api
        api >> Edge(label="HTTP (loopback)", **FLOW) >> page
    return target.with_suffix(".png")


if __name__ == "__main__":
    print(draw(Path(__file__).resolve().parent))
